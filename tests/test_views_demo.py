"""Every core view on the hand-made demo package (tests/data/packages/demo-2024).

The package, in short (days from the index day 0):
  patient 1: F, 50 y, ICU; admitted day -3, intubated day -2, extubated day 5; hospital 20 days
             from admission, ICU 10, ventilation 7; known alive on day 28 (survived follow-up).
  patient 2: M, 60 y, ward; died day 10; hospital 13 days.
  patient 3: F, 70 y, ICU; intubated day 0; died day 20; hospital 25 days, still ongoing.
  patient 4: M, 80 y, ward; discharged alive on day 8; hospital 11 days (admission day unknown).
  SpO2 on room air, day 0: 90, 88, 85, 92; day 7: 95 (p1), 94 (p3), 97 (p4); p3 also 99 on O2.
  CRP p1 day 0: 5 mg/dL = 50 mg/L. Creatinine p1, day not given: 1.2 then 2.4 mg/dL.
"""

from __future__ import annotations

import pytest

from conftest import rows


def test_study_overview(demo_registry):
    """4 patients, 2 female; ages 50 60 70 80 -> median (60+70)/2 = 65; ventilated: p1 (intubated)
    and p3 (intubated) = 2; ICU: p1 and p3 (care setting icu) = 2; deaths p2, p3 = 2."""
    (row,) = rows(
        demo_registry,
        "SELECT study_id, n_patients, n_female, age_median, age_min, age_max, n_mechanical_ventilation,"
        " n_icu, n_deaths, followup_days, dose_summary, n_patients_reported FROM study_overview",
    )
    assert row == ("demo-2024", 4, 2, 65.0, 50.0, 80.0, 2, 2, 2, 28, "1x10^6 cells/kg IV over 15 min (4 patients)", 4)


def test_patient_outcomes(demo_registry):
    """last_followup_day: p1 known alive day 28; p2 and p3 their death days; p4 discharged day 8
    (the 11-day stay cannot be placed: no admission day). p3's stay is ongoing."""
    got = rows(
        demo_registry,
        "SELECT patient_id, vital_status, death_day, last_followup_day, hospital_days, icu_days,"
        " ventilation_days, extubation_day, hospital_ongoing, ventilated, icu FROM patient_outcomes ORDER BY patient_id",
    )
    assert got == [
        ("1", "alive", None, 28, 20.0, 10.0, 7.0, 5, False, True, True),
        ("2", "dead", 10, 10, 13.0, None, None, None, False, False, False),
        ("3", "dead", 20, 20, 25.0, None, None, None, True, True, True),
        ("4", "alive", None, 8, 11.0, None, None, None, False, False, False),
    ]


def test_not_reported_differs_from_none(demo_registry):
    """p1's ICU stay is reported (10 days); p2's is not reported at all: NULL, not 0."""
    got = dict(rows(demo_registry, "SELECT patient_id, icu_days FROM patient_outcomes"))
    assert got["1"] == 10.0 and got["2"] is None


@pytest.mark.parametrize(
    "day, n_known, n_alive, survival",
    [
        # day 7: all four known alive (p2 dies 10, p3 dies 20, p4 seen day 8, p1 seen day 28) -> 4/4
        (7, 4, 4, 1.0),
        # day 14: p1 alive, p2 dead, p3 alive (dies 20), p4 unknown (last seen day 8) -> 2/3
        (14, 3, 2, 2 / 3),
        # day 21: p1 alive, p2 and p3 dead, p4 unknown -> 1/3
        (21, 3, 1, 1 / 3),
        # day 28: p1 alive (known alive on 28 itself), p2, p3 dead -> 1/3
        (28, 3, 1, 1 / 3),
        # day 30: p1 unknown after 28, p4 unknown -> 0 of 2 known alive
        (30, 2, 0, 0.0),
    ],
)
def test_survival_at_day(demo_registry, day, n_known, n_alive, survival):
    (row,) = rows(
        demo_registry,
        f"SELECT n_patients, n_known, n_alive, survival FROM survival_at_day WHERE day = {day}",
    )
    assert row[:3] == (4, n_known, n_alive)
    assert row[3] == pytest.approx(survival)


def test_survival_is_null_when_nobody_is_known(empty_registry, demo_package):
    """With no follow-up beyond day 0 for anyone, nobody's day-7 status is known: NULL, not 0."""
    (demo_package / "events.csv").write_text("patient_id,event,day,day_min,day_max,detail,source_id\n")
    (demo_package / "durations.csv").write_text("patient_id,kind,days,counted_from,ongoing,source_id\n")
    (demo_package / "measurements.csv").write_text("patient_id,day,seq,analyte,value,unit,context,source_id\n")
    (demo_package / "findings.csv").unlink()
    empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT n_known, survival FROM survival_at_day WHERE day = 7") == [(0, None)]


def test_measurement_trajectory(demo_registry):
    """SpO2 room air day 0: 85 88 90 92 -> median 89, q1 = 85+0.75*(88-85) = 87.25,
    q3 = 90+0.25*(92-90) = 90.5. Day 7 room air: 94 95 97 -> median 95, q1 94.5, q3 96.
    The O2 value (99) stays in its own context. CRP 5 mg/dL -> 50 mg/L canonical.
    Creatinine without a day keeps its order in seq."""
    got = rows(
        demo_registry,
        "SELECT analyte, context, day, seq, n, median, q1, q3, unit FROM measurement_trajectory"
        " ORDER BY analyte, context NULLS FIRST, day NULLS LAST, seq",
    )
    assert got == [
        ("creatinine", None, None, 1, 1, 1.2, 1.2, 1.2, "mg/dL"),
        ("creatinine", None, None, 2, 1, 2.4, 2.4, 2.4, "mg/dL"),
        ("crp", None, 0, None, 1, 50.0, 50.0, 50.0, "mg/L"),
        ("spo2", "O2 8 L/min", 7, None, 1, 99.0, 99.0, 99.0, "%"),
        ("spo2", "room air", 0, None, 4, 89.0, 87.25, 90.5, "%"),
        ("spo2", "room air", 7, None, 3, 95.0, 94.5, 96.0, "%"),
    ]


def test_reported_vs_computed(demo_registry):
    """Each reported figure of the demo package against its rows:
    - n 4 = 4 patients: agrees. deaths 2 (p2, p3): agrees.
    - age median 65, min 50, max 80: agree; the text's min 45 is contradicted (rows: 50).
    - hypertension n 3: p1, p2 coded hypertension; p3 has only pulmonary hypertension (not counted);
      p4's list is "NA" -> the rows allow 2..3: undetermined (NULL). percent 66.6 vs 50..75: NULL.
    - female 50.0 %: 2/4 = 50: agrees.
    - alive on day 14 n 3: p1, p3 alive, p2 dead, p4 unknown -> 2..3: NULL.
    - corticosteroid n 3: p1 dexamethasone, p2 steroids = 2 (p4 "None"): contradicted.
    - hospital_days median 16.5: stays 11 13 20 25 -> (13+20)/2 = 16.5: agrees.
    - oxygen_masks: not in the vocabulary: not recomputable, NULL."""
    got = {
        r[0]: r[1:]
        for r in rows(
            demo_registry,
            "SELECT reported_id, computed_value, computed_low, computed_high, agrees FROM reported_vs_computed",
        )
    }
    assert got == {
        "r-n": (4.0, 4.0, 4.0, True),
        "r-deaths": (2.0, 2.0, 2.0, True),
        "r-age-median": (65.0, 65.0, 65.0, True),
        "r-age-min": (50.0, 50.0, 50.0, True),
        "r-age-max": (80.0, 80.0, 80.0, True),
        "r-age-min-text": (50.0, 50.0, 50.0, False),
        "r-ht-n": (None, 2.0, 3.0, None),
        "r-ht-pct": (None, 50.0, 75.0, None),
        "r-female-pct": (50.0, 50.0, 50.0, True),
        "r-alive-14": (None, 2.0, 3.0, None),
        "r-steroid": (2.0, 2.0, 2.0, False),
        "r-los": (16.5, 16.5, 16.5, True),
        "r-other": (None, None, None, None),
    }
    notes = dict(rows(demo_registry, "SELECT reported_id, note FROM reported_vs_computed"))
    assert notes["r-ht-n"] == "pulmonary hypertension not counted; the rows leave 1 of 4 patients undetermined"
    assert notes["r-other"] == "not recomputable from the patient rows"
    assert notes["r-n"] is None


def test_percentage_agrees_when_truncated(empty_registry, demo_package):
    """Population = arm msc = patients 1, 2, 3 (patient 4 moved to arm ctl); female: p1, p3 = 2 of 3
    = 66.666...%. Printed 66.6 agrees by truncation only, 66.7 by rounding; 66.5 disagrees."""
    study = demo_package / "study.yaml"
    study.write_text(study.read_text() + "  - arm_id: ctl\n    name: control\n    source_id: s-methods\n")
    patients = demo_package / "patients.csv"
    patients.write_text(patients.read_text().replace("4,msc,M,80", "4,ctl,M,80"))
    (demo_package / "reported_aggregates.csv").write_text(
        "reported_id,variable,codes,day,statistic,value,unit,population,label,note,source_id\n"
        "t,female,,,percent,66.6,,msc,,,s-summary\n"
        "r,female,,,percent,66.7,,msc,,,s-summary\n"
        "x,female,,,percent,66.5,,msc,,,s-summary\n"
    )
    empty_registry.import_package(demo_package)
    got = {r[0]: r[1:] for r in rows(empty_registry, "SELECT reported_id, agrees, note FROM reported_vs_computed")}
    assert got == {
        "t": (True, "agrees only when truncated, not when rounded"),
        "r": (True, None),
        "x": (False, None),
    }


def test_reported_conflicts(demo_registry):
    """age_years min is reported twice: 50 (Abstract) and 45 (Results)."""
    assert rows(
        demo_registry,
        "SELECT variable, statistic, value_a, locator_a, value_b, locator_b FROM reported_conflicts",
    ) == [("age_years", "min", "50", "Abstract", "45", "Results")]


def test_provenance_names_the_source_of_every_row(demo_registry):
    """Every data row of the demo package appears in provenance with a locator: 4 patients, 4 doses,
    11 measurements, 8 events, 6 durations, 2 adverse events, 5 comorbidities, 6 treatments,
    1 finding, 1 study fact, 13 reported figures, plus the study, 1 study field, 1 product, 1 arm."""
    counts = dict(rows(demo_registry, "SELECT table_name, count(*) FROM provenance GROUP BY table_name"))
    assert counts == {
        "studies": 2, "products": 1, "arms": 1, "patients": 4, "doses": 4, "measurements": 11, "events": 8,
        "durations": 6, "adverse_events": 2, "comorbidities": 5, "treatments": 6, "findings": 1,
        "study_facts": 1, "reported_aggregates": 13,
    }
    assert rows(demo_registry, "SELECT count(*) FROM provenance WHERE locator IS NULL") == [(0,)]
    assert rows(
        demo_registry,
        "SELECT locator, quote FROM provenance WHERE patient_id = '2' AND table_name = 'events'",
    ) == [("Results", "Patient 2 died on day 10; patient 3 died on day 20.")]
