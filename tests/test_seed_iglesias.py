"""The bundled iglesias-2021 package checked against the paper: Iglesias et al., Aging Dis 2021
(DOI 10.14336/ad.2020.1218), plain text shared/seeds/000_dbf2b97fbac8c2da.txt.

The text is narrative only: Tables 1-4 and Figures 1-4 are missing. Each test quotes the sentences
it relies on, and every quote is checked against the paper before the rows are compared with it.
Day 0 is the single infusion. The secondary packages (leng, liang, mesoblast, pluristem) are
Iglesias's own quotations of other reports, so their provenance is checked here too.
"""

from __future__ import annotations

import re

import pytest

from conftest import rows, seed_paper

STUDY = "iglesias-2021"
QUOTED = ["leng-2020", "liang-2020", "mesoblast-2020", "pluristem-2020"]
PAPER_FILE = seed_paper("000_dbf2b97fbac8c2da.txt")


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


FLAT = collapse(PAPER_FILE.read_text(encoding="utf-8"))


def said(*quotes: str) -> None:
    """Each quote stands in the paper, once whitespace is collapsed."""
    for quote in quotes:
        assert collapse(quote) in FLAT, f"not in the paper: {quote!r}"


ICU = "Four of the patients required ICU care and were ventilator dependent."
P3_WARD = ("Patient 3 had the absolute indication for hospitalization in ICU, however at that time there "
           "were no beds available in ICU and he was treated in regular hospitalization")
P4_DEATH = ("Fifteen days post-infusion, patient 4 developed arterial thrombosis in his left lower limb, "
            "hemodynamic deterioration, D-dimer concentration of 7268 ng/mL, and death.")
P4_HB = "Hemoglobin concentration decreased to 7.2 g/dl 14 days post-infusion in patient 4."
P5_CREAT = ("After admission to hospital, patient 5 developed progressively increased serum creatinine "
            "concentrations of 2.51, 3.71, 5.02, and 7.14 mg/dL")
P5_DEATH = ("Eleven days post-infusion, this patient developed epistaxis and hematuria, and anticoagulation "
            "therapy was suspended. The patient died 13 days post-infusion.")
INFUSION_EVENTS = ("Prespecified infusion-associated events developed during the first hour post-infusion in "
                   "patients 4 and 5. These patients developed hypoxemia and hypotension and/or hypertension; "
                   "patients 3 and 4 developed muscle spasms.")
ABS_AE = "Adverse events occurred in three patients and were easily and quickly controlled."
ABS_DEATHS = "Two patients died at 13 and 15 days after infusion."
RES_OUTCOME = "Three patients survived, and two patients died."
ABS_EXTUBATED = "Three patients survived and were extubated on the ninth day post-infusion."
CONCL_EXTUBATED = "This treatment led to the survival of three patients who were extubated 9 days post-infusion."
DISC_EXTUBATED = "Two of our patients were removed from ventilator support 9 days post-infusion."
INTUBATED = ("In our surviving patients, the infusion was performed 17 and 6 days after patients were intubated. "
             "In our patients who died, infusion was performed 3 days and 1 day, respectively, after intubation.")
DOSE = "ahUCMSC were infused IV, at a dose of 1 × 10 6 per Kg of body weight over 15 minutes."
MONITORED = ("monitored daily for 21 days after the infusion or until the patient was discharged from the "
             "hospital")
LYMPHOCYTES = "Only patient 1 had a decrease in total lymphocytes from 1570 to 984 per 1 ML."


@pytest.fixture(scope="module")
def fetch(bundled_registry):
    """Each query runs once per module (a query costs about 0.1 s) and its rows are kept."""
    cache: dict[str, list[tuple]] = {}

    def fetch(sql: str) -> list[tuple]:
        if sql not in cache:
            cache[sql] = rows(bundled_registry, sql)
        return cache[sql]

    return fetch


def test_said_catches_a_misquote():
    """The quote check can fail: one changed word is enough."""
    with pytest.raises(AssertionError):
        said("Three of the patients required ICU care and were ventilator dependent.")


# --- Patients and their course ---------------------------------------------------------------


def test_patients(fetch):
    """Patient 3 "was treated in regular hospitalization" ("he"), so he is male and on the ward.
    Patient 4 is male ("his left lower limb"). "Four of the patients required ICU care" are the
    other four. No other sex, and no age, is in the text (Table 1 is missing), so those stay NULL."""
    said(P3_WARD, P4_DEATH, ICU)
    got = fetch(f"SELECT patient_id, sex, age_years, care_setting FROM patients WHERE study_id = '{STUDY}'")
    assert sorted(got) == [
        ("1", None, None, "icu"), ("2", None, None, "icu"), ("3", "M", None, "ward"),
        ("4", "M", None, "icu"), ("5", None, None, "icu"),
    ]


@pytest.mark.parametrize("patient, field, words", [
    ("3", "sex", "he was treated in regular hospitalization"),
    ("3", "care_setting", "he was treated in regular hospitalization"),
    ("4", "sex", "his left lower limb"),
])
def test_field_sources_cite_the_sentence(fetch, patient, field, words):
    """A field read from another sentence than the rest of its row cites that sentence."""
    got = {(k, f): q for k, f, q in fetch(
        "SELECT f.row_key, f.field, s.quote FROM field_sources f JOIN sources s USING (study_id, source_id)"
        f" WHERE f.study_id = '{STUDY}' AND f.table_name = 'patients'")}
    assert words in got[(patient, field)]
    said(got[(patient, field)])


def test_events(fetch):
    """Every event of the study, from the text:
    - deaths: patient 5 "died 13 days post-infusion" and patient 4 on day 15, matching the Abstract's
      "Two patients died at 13 and 15 days";
    - extubation on day 9 ("Two of our patients were removed from ventilator support 9 days
      post-infusion") for 1 and 2, the only survivors who were ventilated (3 was on the ward);
    - the survivors 1, 2 and 3 known alive at the end of the 21 days of monitoring;
    - intubation 17 or 6 days before the infusion for the survivors 1 and 2, and 3 or 1 day before
      for 4 and 5 ("respectively", with no order stated), so each is kept as a range."""
    said(P5_DEATH, P4_DEATH, ABS_DEATHS, DISC_EXTUBATED, RES_OUTCOME, MONITORED, INTUBATED)
    got = fetch(f"SELECT patient_id, event, day, day_min, day_max FROM events WHERE study_id = '{STUDY}'")
    assert sorted(got, key=repr) == sorted([
        ("5", "death", 13, None, None), ("4", "death", 15, None, None),
        ("1", "extubation", 9, None, None), ("2", "extubation", 9, None, None),
        ("1", "known_alive", 21, None, None), ("2", "known_alive", 21, None, None),
        ("3", "known_alive", 21, None, None),
        ("1", "intubation", None, -17, -6), ("2", "intubation", None, -17, -6),
        ("4", "intubation", None, -3, -1), ("5", "intubation", None, -3, -1),
    ], key=repr)


def test_adverse_events(fetch):
    """Infusion-associated events in patients 4 and 5 "during the first hour post-infusion": hypoxemia
    and "hypotension and/or hypertension", each with onset day 0. The hour is left NULL because
    "during the first hour" is a bound, not a time. Muscle spasms in 3 and 4 have no day. Also
    patient 4's arterial thrombosis on day 15 and patient 5's epistaxis and hematuria on day 11."""
    said(INFUSION_EVENTS, P4_DEATH, P5_DEATH, ABS_AE)
    got = fetch("SELECT patient_id, term, onset_day, onset_hours, infusion_related FROM adverse_events"
                f" WHERE study_id = '{STUDY}'")
    assert sorted(got, key=repr) == sorted([
        ("4", "hypoxemia", 0, None, True), ("4", "hypotension and/or hypertension", 0, None, True),
        ("5", "hypoxemia", 0, None, True), ("5", "hypotension and/or hypertension", 0, None, True),
        ("3", "muscle spasms", None, None, None), ("4", "muscle spasms", None, None, None),
        ("4", "arterial thrombosis in left lower limb", 15, None, None),
        ("5", "epistaxis", 11, None, None), ("5", "hematuria", 11, None, None),
    ], key=repr)


@pytest.mark.parametrize("term, n_events, n_patients, infusion_related, basis, onset_days", [
    # 4 and 5 each had one, stated as infusion-associated, on day 0
    ("hypoxemia", 2, 2, True, "stated", "0"),
    ("hypotension and/or hypertension", 2, 2, True, "stated", "0"),
    # 3 and 4, no day and no link to the infusion stated either way: unknown, not "no"
    ("muscle spasms", 2, 2, None, None, None),
    # day 15 and day 11, nothing stated about the infusion
    ("arterial thrombosis in left lower limb", 1, 1, None, None, "15"),
    ("epistaxis", 1, 1, None, None, "11"),
])
def test_adverse_event_summary(fetch, term, n_events, n_patients, infusion_related, basis, onset_days):
    got = {r[0]: r[1:] for r in fetch(
        "SELECT term, n_events, n_patients, infusion_related, infusion_related_basis, onset_days"
        f" FROM adverse_event_summary WHERE study_id = '{STUDY}'")}
    assert got[term] == (n_events, n_patients, infusion_related, basis, onset_days)


def test_measurements(fetch):
    """Patient 4: hemoglobin 7.2 g/dL on day 14 and D-dimer 7268 ng/mL on day 15. Patient 5: creatinine
    2.51, 3.71, 5.02, 7.14 mg/dL "after admission to hospital", with no day, kept in order by seq 1-4.
    Patient 1: lymphocytes from 1570 to 984 "per 1 ML", read as per µL, also with no day."""
    said(P4_HB, P4_DEATH, P5_CREAT, LYMPHOCYTES)
    got = fetch(f"SELECT patient_id, day, seq, analyte, value, unit FROM measurements WHERE study_id = '{STUDY}'")
    assert sorted(got, key=repr) == sorted([
        ("4", 14, None, "hemoglobin", 7.2, "g/dL"),
        ("4", 15, None, "d_dimer", 7268.0, "ng/mL"),
        ("5", None, 1, "creatinine", 2.51, "mg/dL"),
        ("5", None, 2, "creatinine", 3.71, "mg/dL"),
        ("5", None, 3, "creatinine", 5.02, "mg/dL"),
        ("5", None, 4, "creatinine", 7.14, "mg/dL"),
        ("1", None, 1, "lymphocytes", 1570.0, "/uL"),
        ("1", None, 2, "lymphocytes", 984.0, "/uL"),
    ], key=repr)


def test_doses(fetch):
    """ "at a dose of 1 × 10 6 per Kg of body weight over 15 minutes", one infusion on day 0 for all five."""
    said(DOSE)
    got = fetch("SELECT patient_id, infusion, day, amount, unit, route, duration_min FROM doses"
                f" WHERE study_id = '{STUDY}'")
    assert sorted(got) == [(p, 1, 0, 1e6, "cells/kg", "IV", 15) for p in "12345"]


def test_treatments(fetch):
    """"all of our patients received anticoagulant therapy". It was suspended for patient 4 on day 14
    (hemoglobin 7.2, then "two units of red blood cells were transfused") and for patient 5 on day 11
    (epistaxis and hematuria). Patient 5 had hemodialysis "performed incompletely". For 4 and 5, the
    infusion-associated events "required an increase in FiO2 and vasopressor treatment"."""
    said("all of our patients received anticoagulant therapy", P4_HB,
         "Anticoagulation therapy was suspended, and two units of red blood cells were transfused.",
         "for which hemodialysis was performed incompletely due to hemodynamic alterations", P5_DEATH,
         "These patients required an increase in FiO2 and vasopressor treatment.")
    got = fetch("SELECT patient_id, code, drug_class, phase, start_day, end_day FROM treatments"
                f" WHERE study_id = '{STUDY}'")
    anticoagulant = ("anticoagulant_unspecified", "anticoagulant", "hospital", None)
    vasopressor = ("vasopressor_unspecified", "vasopressor", "hospital", None, None)
    assert sorted(got, key=repr) == sorted([
        ("1", *anticoagulant, None), ("2", *anticoagulant, None), ("3", *anticoagulant, None),
        ("4", *anticoagulant, 14), ("5", *anticoagulant, 11),
        ("4", "red_blood_cells", "blood_product", "hospital", 14, None),
        ("5", "hemodialysis", "renal_replacement", "hospital", None, None),
        ("4", *vasopressor), ("5", *vasopressor),
    ], key=repr)


# --- Reported figures against the rows -------------------------------------------------------


@pytest.fixture(scope="module")
def computed(bundled_registry):
    cols = ["reported_id", "reported_value", "computed_value", "computed_low", "computed_high", "agrees", "quote"]
    got = rows(bundled_registry,
               f"SELECT {', '.join(cols)} FROM reported_vs_computed WHERE study_id = '{STUDY}'")
    return {r[0]: dict(zip(cols, r)) for r in got}


REPORTED = [
    # Extubated: the Abstract and Conclusion say three. Patient 3 (a survivor) was never ventilated,
    # so only 1 and 2 could be extubated, as the Discussion says.
    ("abs-extubated", ABS_EXTUBATED, 3, 2, False),
    ("concl-extubated", CONCL_EXTUBATED, 3, 2, False),
    ("disc-extubated", DISC_EXTUBATED, 2, 2, True),
    # Both extubations are on day 9, "the ninth day post-infusion".
    ("abs-extubation-day", ABS_EXTUBATED, 9, 9, True),
    # Deaths: 4 (day 15) and 5 (day 13). Alive: 1, 2 and 3.
    ("abs-deaths", ABS_DEATHS, 2, 2, True),
    ("res-deaths", RES_OUTCOME, 2, 2, True),
    ("res-alive", RES_OUTCOME, 3, 3, True),
    # Patients with an adverse event: 3 (spasms), 4 and 5.
    ("abs-ae", ABS_AE, 3, 3, True),
    # ICU and ventilated: 1, 2, 4, 5 (3 was on the ward).
    ("res-icu", ICU, 4, 4, True),
    ("res-ventilated", ICU, 4, 4, True),
    ("abs-n", "Five patients that did not improve in their clinical conditions", 5, 5, True),
    # D-dimer "between 2738 ng/mL and 4712 ng/mL" after 24 h: no per-patient values, so it cannot be recomputed.
    ("res-ddimer-min", "of between 2738 ng/mL and 4712 ng/mL", 2738, None, None),
]


@pytest.mark.parametrize("reported_id, quote, reported, rows_say, agrees", REPORTED,
                         ids=[case[0] for case in REPORTED])
def test_reported_against_rows(computed, reported_id, quote, reported, rows_say, agrees):
    said(quote, computed[reported_id]["quote"])
    row = computed[reported_id]
    assert row["reported_value"] == reported
    assert (row["computed_value"], row["computed_low"], row["computed_high"]) == (rows_say, rows_say, rows_say)
    assert row["agrees"] is agrees


def test_text_versus_text_conflicts(fetch):
    """Iglesias contradicts itself twice: extubated 3 in the Abstract and the Conclusion, against 2 in
    the Discussion. In Liang's dose as Iglesias quotes it, the Introduction says "5 × 10 6
    ahUCMSCs/Kg" (5e6) and the Discussion says "50 × 10 6 /kg" (50 x 10^6 = 5e7). No other pair of
    figures in these five packages disagrees."""
    said(ABS_EXTUBATED, CONCL_EXTUBATED, DISC_EXTUBATED,
         "three intravenous infusions of 5 × 10 6 ahUCMSCs/Kg of body weight every 3 days",
         "three infusions (total) at a dose of 50 × 10 6 /kg of body weight every third day")
    studies = ", ".join(f"'{s}'" for s in [STUDY, *QUOTED])
    got = fetch("SELECT study_id, variable, value_a, locator_a, quote_a, value_b, locator_b, quote_b"
                f" FROM reported_conflicts WHERE study_id IN ({studies})")
    assert sorted(r[:4] + r[5:7] for r in got) == [
        ("iglesias-2021", "extubated", "3", "Abstract", "2", "Discussion"),
        ("iglesias-2021", "extubated", "3", "Conclusion", "2", "Discussion"),
        ("liang-2020", "dose_cells_per_kg", "5e7", "Discussion", "5e6", "Introduction"),
    ]
    for r in got:
        said(r[4], r[7])
    liang = next(r for r in got if r[0] == "liang-2020")
    assert (float(liang[2]), float(liang[5])) == (50 * 10**6, 5 * 10**6)


# --- Views ------------------------------------------------------------------------------------


def test_patient_outcomes(fetch):
    """1 and 2: alive through day 21, extubated day 9, ventilated in ICU. 3: alive through day 21,
    on the ward, never ventilated. 4 died day 15 and 5 died day 13, both ventilated in ICU."""
    got = fetch("SELECT patient_id, vital_status, death_day, last_followup_day, extubation_day, ventilated, icu"
                f" FROM patient_outcomes WHERE study_id = '{STUDY}'")
    assert sorted(got) == [
        ("1", "alive", None, 21, 9, True, True),
        ("2", "alive", None, 21, 9, True, True),
        ("3", "alive", None, 21, None, False, False),
        ("4", "dead", 15, 15, None, True, True),
        ("5", "dead", 13, 13, None, True, True),
    ]


@pytest.mark.parametrize("day, n_known, n_alive, n_dead", [
    (7, 5, 5, 0),   # the deaths come on days 13 and 15 and the survivors are seen on day 21: all 5 alive
    (14, 5, 4, 1),  # 5 died on day 13; 4 dies on day 15, so is still alive on day 14
    (21, 5, 3, 2),  # both deaths are past; 1, 2 and 3 known alive on day 21 itself
    (28, 2, 0, 2),  # the survivors are known alive only through day 21: 3 unknown, 0 of 2 known alive
])
def test_survival_at_day(fetch, day, n_known, n_alive, n_dead):
    """The two deaths (5 on day 13, 4 on day 15) fall between days 7 and 21, so they show on days 14
    and 21. "Three patients survived" is read as alive at the end of the 21-day monitoring and no
    later, so after day 21 only the two deaths are known."""
    got = {r[0]: r[1:] for r in fetch(
        "SELECT day, n_patients, n_known, n_alive, survival, n_dead, n_unknown FROM survival_at_day"
        f" WHERE study_id = '{STUDY}'")}
    assert got[day] == (5, n_known, n_alive, pytest.approx(n_alive / n_known), n_dead, 5 - n_known)


def test_study_overview(fetch):
    """5 patients. None is recorded female (only 3 and 4 have a sex, male), and no age is given.
    4 ventilated and in ICU, 2 deaths, 21 days of monitoring, 1x10^6 cells/kg IV over 15 min for all 5."""
    said(MONITORED, DOSE)
    got = fetch(
        "SELECT n_patients, n_female, age_median, age_min, age_max, n_mechanical_ventilation, n_icu,"
        " n_deaths, followup_days, dose_summary, n_patients_reported FROM study_overview"
        f" WHERE study_id = '{STUDY}'")
    assert got == [(5, 0, None, None, None, 4, 4, 2, 21, "1x10^6 cells/kg IV over 15 min (5 patients)", 5)]


def test_creatinine_keeps_its_order_without_a_day(fetch):
    """Patient 5's four creatinine values have no day. They stay apart, one per seq, in the printed order."""
    got = [r[1:] for r in fetch(
        "SELECT analyte, day, seq, n, median FROM measurement_trajectory"
        f" WHERE study_id = '{STUDY}'") if r[0] == "creatinine"]
    assert sorted(got) == [(None, 1, 1, 2.51), (None, 2, 1, 3.71), (None, 3, 1, 5.02), (None, 4, 1, 7.14)]


# --- Provenance ------------------------------------------------------------------------------

TABLES = ["products", "arms", "patients", "doses", "measurements", "events", "adverse_events", "treatments",
          "findings", "study_facts", "reported_aggregates", "field_sources"]
STUDIES = ", ".join(f"'{s}'" for s in [STUDY, *QUOTED])
# Rows per study and table. The provenance view lists each field source once, under "studies"
# (a field of the study) or "field_sources" (a field of a product or patient), and the study's
# own row under "studies" as well: 1 + field sources in all.
COUNTS_SQL = " UNION ALL ".join(
    f"SELECT study_id, '{t}', count(*) FROM {t} WHERE study_id IN ({STUDIES}) GROUP BY study_id" for t in TABLES)
PROVENANCE_SQL = ("SELECT study_id, table_name, item, document_id, locator, quote FROM provenance"
                  f" WHERE study_id IN ({STUDIES})")


@pytest.mark.parametrize("study", [STUDY, *QUOTED])
def test_every_row_quotes_the_paper(fetch, study):
    """Every row of every table (and the study with its per-field sources) is in the provenance view
    with a source in the Iglesias paper and a locator, and its quote is verbatim in the paper text."""
    expected = {t: n for s, t, n in fetch(COUNTS_SQL) if s == study}
    expected["studies"] = 1 + expected.pop("field_sources", 0)
    got = [r[1:] for r in fetch(PROVENANCE_SQL) if r[0] == study]
    per_table: dict[str, int] = {}
    for table, *_ in got:
        key = "studies" if table == "field_sources" else table
        per_table[key] = per_table.get(key, 0) + 1
    assert {t: per_table.get(t, 0) for t in expected} == expected
    paper = "paper" if study == STUDY else "iglesias-paper"
    bad = [(table, item) for table, item, doc, locator, quote in got
           if doc != paper or not locator or not quote or collapse(quote) not in FLAT]
    assert bad == []


def test_no_licence_stated(fetch):
    """The text states no licence, so the document's licence is NULL rather than guessed."""
    assert "creative commons" not in FLAT.lower() and "CC-BY" not in FLAT
    assert fetch(f"SELECT document_id, licence FROM documents WHERE study_id = '{STUDY}'") == [
        ("paper", None), ("supplement", None)]


def test_where_from_patient_4(bundled_registry):
    """The named query where_from lists patient 4's facts with locators and quotes. His death, the
    day-14 hemoglobin and the infusion-associated events are cited by the sentences that state them."""
    result = bundled_registry.query("where_from", study=STUDY, patient="4")
    got = [dict(zip(result.columns, r)) for r in result.rows()]
    assert len(got) >= 10
    assert all(r["locator"] and r["quote"] and collapse(r["quote"]) in FLAT for r in got)
    by_table: dict[str, set[str]] = {}
    for r in got:
        by_table.setdefault(r["table_name"], set()).add(collapse(r["quote"]))
    assert collapse(P4_DEATH) in by_table["events"]
    assert collapse(P4_HB) in by_table["measurements"]
    assert any("patients 4 and 5" in q for q in by_table["adverse_events"])
