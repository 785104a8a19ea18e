"""The bundled perez-2023 package checked against the paper: Perez et al., Cureus 2023; 15(8): e44110.

The expected values come from the paper's own text (shared/seeds/002_42c779f587261f1d.txt),
not from the package. Its Table 1 and Table 2 are tab-separated lines in that text, and the tests
below parse them. The only hand-written mapping is the registry's coding of a printed term, such
as HT -> hypertension or steroids -> steroid_unspecified (corticosteroid). docs/seed-data.md
gives the curation decisions these tests follow.

Day 0 is the infusion. Table 2 counts days "after admission", and Table 1 puts admission 0 to 4
days before the infusion ("3 (0 – 4)").
"""

from __future__ import annotations

import re

import pytest

from conftest import rows, seed_paper

STUDY = "perez-2023"
PAPER_FILE = seed_paper("002_42c779f587261f1d.txt")
PAPER = PAPER_FILE.read_text(encoding="utf-8")
IDS = ["001", "002", "003", "004", "005", "006", "007", "008", "009"]


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


FLAT = collapse(PAPER)


def _tab_rows(text: str) -> dict[str, list[str]]:
    """Every tab-separated line of the paper: first cell -> the other cells, stripped."""
    found = {}
    for line in text.splitlines():
        if "\t" in line:
            label, *cells = line.split("\t")
            found[label.strip()] = [c.strip() for c in cells]
    return found


_ROWS = _tab_rows(PAPER)
# Table 2: row label -> {patient id: cell}; Table 1: row label -> its single cell.
T2 = {label: dict(zip(IDS, cells)) for label, cells in _ROWS.items()
      if len(cells) == 9 and label != "Patient ID"}
T1 = {label: cells[0] for label, cells in _ROWS.items() if len(cells) == 1}
# Table 1 row "Days of admission prior to treatment with MSCs – median (range)", cell "3 (0 – 4)".
_GAP = T1["Days of admission prior to treatment with MSCs – median (range)"]
GAP_MIN, GAP_MAX = map(int, re.search(r"\((\d+) – (\d+)\)", _GAP).groups())


def hospital_days(pid: str) -> int:
    return int(T2["Days Hospitalized"][pid])


def still_in_hospital(pid: str) -> bool:
    return T2["Reason for discharge"][pid] == "Hospitalized"


@pytest.fixture(scope="module")
def fetch(bundled_registry):
    """Each query runs once per module (a query costs about 0.1 s) and its rows are kept."""
    cache: dict[str, list[tuple]] = {}

    def fetch(sql: str) -> list[tuple]:
        if sql not in cache:
            cache[sql] = rows(bundled_registry, sql)
        return cache[sql]

    return fetch


def test_tables_are_read_from_the_paper():
    """The parser finds Table 2's 12 rows for 9 patients and Table 1's rows, so the parametrized
    tests below compare against real cells and are never vacuous."""
    assert _ROWS["Patient ID"] == IDS  # so T2's columns are these ids, in this order
    assert set(T2) == {
        "Gender", "Age", "Days Hospitalized", "Days in ICU", "Days intubated", "Symptoms. Day 0",
        "Symptoms. Day 4", "Reason for discharge", "Indications after discharge",
        "Relevant concomitant medical conditions", "Treatments received", "Clinical outcome",
    }
    assert (GAP_MIN, GAP_MAX) == (0, 4)
    assert T1["Steroids, n (%)"] == "9 (100)"


# --- Table 2, patient by patient ------------------------------------------------------------


@pytest.mark.parametrize("pid", IDS)
def test_sex_and_age(fetch, pid):
    """Table 2 rows "Gender" and "Age"."""
    got = dict((p, (s, a)) for p, s, a in fetch(
        f"SELECT patient_id, sex, age_years FROM patients WHERE study_id = '{STUDY}'"))
    assert got[pid] == (T2["Gender"][pid], float(T2["Age"][pid]))


@pytest.mark.parametrize("pid", IDS)
def test_stays_from_admission(fetch, pid):
    """Table 2 "Days Hospitalized", "Days in ICU" and "Days intubated", counted from admission
    (table title: "... after admission"). Only 006's reason for discharge is "Hospitalized", so only
    006's stays are still under way. Its ICU and ventilation days (25) equal its hospital days."""
    got = {
        kind: (days, counted_from, ongoing)
        for p, kind, days, counted_from, ongoing in fetch(
            "SELECT patient_id, kind, days, counted_from, ongoing FROM durations"
            f" WHERE study_id = '{STUDY}'")
        if p == pid
    }
    ongoing = still_in_hospital(pid)
    assert got == {
        "hospital": (hospital_days(pid), "admission", ongoing),
        "icu": (int(T2["Days in ICU"][pid]), "admission", ongoing),
        "ventilation": (int(T2["Days intubated"][pid]), "admission", ongoing),
    }


def observations(cell: str) -> list[tuple]:
    """A Table 2 symptom cell -> [(analyte, value, unit, context)], by the rules of docs/seed-data.md:
    "Sat n% with f L/m O₂" gives spo2 n plus o2_flow f, both in context "O2 f L/min";
    "Sat n% without supplementary oxygen", or a bare "Sat n%" in a cell that says "no supplementary
    oxygen", is room air; a bare "Sat n%" in a "Mechanical ventilation" cell is mechanical ventilation;
    "desaturation of n%" is a "desaturation episode"; "RR n" is resp_rate with no context.
    Any other number in a cell is an error, so nothing is silently skipped."""
    found = []
    for part in (p.strip() for p in cell.split(",")):
        if m := re.fullmatch(r"Sat (\d+)% with (\d+) L/m O\s*\u2082", part):
            context = f"O2 {m[2]} L/min"
            found += [("spo2", float(m[1]), "%", context), ("o2_flow", float(m[2]), "L/min", context)]
        elif m := re.fullmatch(r"Sat (\d+)% without supplementary oxygen", part):
            found.append(("spo2", float(m[1]), "%", "room air"))
        elif m := re.fullmatch(r"Sat (\d+)%", part):
            if "Mechanical ventilation" in cell:
                context = "mechanical ventilation"
            elif "no supplementary oxygen" in cell:
                context = "room air"
            else:
                raise AssertionError(f"SpO2 with no stated conditions in {cell!r}")
            found.append(("spo2", float(m[1]), "%", context))
        elif m := re.fullmatch(r"desaturation of (\d+)%", part):
            found.append(("spo2", float(m[1]), "%", "desaturation episode"))
        elif m := re.fullmatch(r"RR (\d+)", part):
            found.append(("resp_rate", float(m[1]), "breaths/min", None))
        else:
            assert not re.search(r"\d", part), f"number not parsed: {part!r}"
    return sorted(found, key=repr)


@pytest.mark.parametrize("day", [0, 4])
@pytest.mark.parametrize("pid", IDS)
def test_symptom_cell_measurements(fetch, pid, day):
    """Every SpO2 (with its context), O2 flow and respiratory rate in Table 2 "Symptoms. Day 0/4",
    and nothing else on those days. Two cells have gaps: 008's Day 0 has no RR and 007's Day 4 has
    no SpO2. 003's Day 0 has two SpO2 values: 89% without O2 and 99% on 8 L/min."""
    got = sorted(
        ((a, v, u, c) for p, d, a, v, u, c in fetch(
            "SELECT patient_id, day, analyte, value, unit, context FROM measurements"
            f" WHERE study_id = '{STUDY}'") if p == pid and d == day),
        key=repr,
    )
    expected = observations(T2[f"Symptoms. Day {day}"][pid])
    assert expected, "every cell here has at least one value"
    assert got == expected


def test_symptom_parser_reads_the_hard_cells():
    """A spot check of the parser on the paper's two unusual cells, written out by hand.
    009 Day 4: "Severe dyspnoea, desaturation of 58%, Sat 92% with 60 L/m O₂, intubation, RR 40".
    003 Day 4: "No dyspnoea, no supplementary oxygen, Sat 96%, RR 18"."""
    assert observations(T2["Symptoms. Day 4"]["009"]) == sorted([
        ("spo2", 58.0, "%", "desaturation episode"), ("spo2", 92.0, "%", "O2 60 L/min"),
        ("o2_flow", 60.0, "L/min", "O2 60 L/min"), ("resp_rate", 40.0, "breaths/min", None),
    ], key=repr)
    assert observations(T2["Symptoms. Day 4"]["003"]) == sorted([
        ("spo2", 96.0, "%", "room air"), ("resp_rate", 18.0, "breaths/min", None)], key=repr)


# Printed term -> registry code. "NA" (not stated) differs from "None" (stated: none).
CONDITION_CODES = {
    "None": "none", "NA": "not_reported", "HT": "hypertension", "Asthma": "asthma",
    "DM2": "diabetes_type2", "ischemic cardiopathy": "ischemic_heart_disease",
    "Severe pulmonary hypertension": "pulmonary_hypertension",
    "interstitial lung disease": "interstitial_lung_disease",
    "Hepatitis C reactivated 6 months ago": "hepatitis_c",
    "cardiomyopathy mixed": "cardiomyopathy", "pacemaker": "pacemaker",
}


@pytest.mark.parametrize("pid", IDS)
def test_comorbidities(fetch, pid):
    """Table 2 "Relevant concomitant medical conditions", one row per listed condition, as printed.
    004's "Severe pulmonary hypertension" is pulmonary_hypertension, not hypertension. 006's "NA" is
    not_reported."""
    got = sorted((c, k) for p, c, k in fetch(
        f"SELECT patient_id, condition, code FROM comorbidities WHERE study_id = '{STUDY}'") if p == pid)
    cell = T2["Relevant concomitant medical conditions"][pid]
    assert got == sorted((c, CONDITION_CODES[c]) for c in cell.split(", "))


# Printed drug (lower case) -> (code, drug class).
DRUGS = {
    "hydroxychloroquine": ("hydroxychloroquine", "antimalarial"),
    "enoxaparin": ("enoxaparin", "anticoagulant"),
    "apixaban": ("apixaban", "anticoagulant"),
    "baricitinib": ("baricitinib", "jak_inhibitor"),
    "azithromycin": ("azithromycin", "antibiotic"),
    "levofloxacin": ("levofloxacin", "antibiotic"),
    "sulfamethoxazole and trimethoprim": ("sulfamethoxazole_trimethoprim", "antibiotic"),
    "voriconazole": ("voriconazole", "antifungal"),
    "steroids": ("steroid_unspecified", "corticosteroid"),
    "methylprednisolone": ("methylprednisolone", "corticosteroid"),
    "tocilizumab": ("tocilizumab", "il6_inhibitor"),
    "sildenafil": ("sildenafil", "pde5_inhibitor"),
    "nifedipine": ("nifedipine", "calcium_channel_blocker"),
    "quetiapine": ("quetiapine", "antipsychotic"),
    "olanzapine": ("olanzapine", "antipsychotic"),
    "mechanical ventilation": ("mechanical_ventilation", "respiratory_support"),
    "oxygen therapy": ("oxygen_therapy", "oxygen"),
    "none": ("none", None),
    "na": ("not_reported", None),
}


@pytest.mark.parametrize("phase, row", [("hospital", "Treatments received"),
                                        ("after_discharge", "Indications after discharge")])
@pytest.mark.parametrize("pid", IDS)
def test_treatments(fetch, pid, phase, row):
    """Table 2 "Treatments received" (hospital phase) and "Indications after discharge": one row per
    drug with its code and class. 005's cell lists enoxaparin twice, and it is stored once."""
    got = sorted((d.lower(), c, k) for p, d, c, k, ph in fetch(
        "SELECT patient_id, drug, code, drug_class, phase FROM treatments"
        f" WHERE study_id = '{STUDY}'") if p == pid and ph == phase)
    printed = dict.fromkeys(d.lower() for d in T2[row][pid].split(", "))  # ordered, deduplicated
    assert got == sorted((d, *DRUGS[d]) for d in printed)


@pytest.mark.parametrize("pid", IDS)
def test_discharge_reason_and_day(fetch, pid):
    """Table 2 "Reason for discharge" becomes the discharge event's detail. The day is known only as
    Days Hospitalized minus the 0-4 days from admission to infusion. For example, 001 (9 days) is
    discharged between day 9 - 4 = 5 and day 9. 006 ("Hospitalized") has no discharge."""
    got = [(d, lo, hi, detail) for p, e, d, lo, hi, detail in fetch(
        "SELECT patient_id, event, day, day_min, day_max, detail FROM events"
        f" WHERE study_id = '{STUDY}'") if p == pid and e == "hospital_discharge"]
    if still_in_hospital(pid):
        assert got == []
    else:
        h = hospital_days(pid)
        assert got == [(None, h - GAP_MAX, h - GAP_MIN, T2["Reason for discharge"][pid])]


def test_tracheostomy_events(fetch):
    """Table 2 "Clinical outcome" names a tracheostomy for 002 ("Tracheostomy, added bacterial
    pneumonia") and 006 ("Tracheostomy, delirium"). Neither cell gives a day."""
    expected = {p for p in IDS if "Tracheostomy" in T2["Clinical outcome"][p]}
    assert expected == {"002", "006"}
    got = [(p, d, lo, hi) for p, e, d, lo, hi in fetch(
        f"SELECT patient_id, event, day, day_min, day_max FROM events WHERE study_id = '{STUDY}'")
        if e == "tracheostomy"]
    assert sorted(got) == [(p, None, None, None) for p in sorted(expected)]


def test_intubations(fetch):
    """Results: "three required intubation and mechanical ventilation prior to receiving the stem cell
    infusion". These are 002, 006 and 007, whose Day 0 cells say "Mechanical ventilation", so each is
    intubated by day 0 with the day itself unknown. "one patient was intubated three days after the
    stem cell infusion": of the four with Days intubated > 0, only 009 was not ventilated on Day 0."""
    assert "three required intubation and mechanical ventilation prior to receiving the stem cell infusion" in FLAT
    assert "one patient was intubated three days after the stem cell infusion" in FLAT
    before = {p for p in IDS if "Mechanical ventilation" in T2["Symptoms. Day 0"][p]}
    ever = {p for p in IDS if int(T2["Days intubated"][p]) > 0}
    assert before == {"002", "006", "007"} and ever - before == {"009"}
    got = {p: (d, lo, hi) for p, e, d, lo, hi in fetch(
        f"SELECT patient_id, event, day, day_min, day_max FROM events WHERE study_id = '{STUDY}'")
        if e == "intubation"}
    by_day_0 = (None, None, 0)  # day unknown, at the latest day 0
    assert got == {"002": by_day_0, "006": by_day_0, "007": by_day_0, "009": (3, None, None)}


def test_one_infusion_each(fetch):
    """Methods: "Every participant in the study received a one-time intravenous infusion of 1×10^8
    MSCs ... on Day 0". That is 9 rows: infusion 1, day 0, 1e8 cells, IV, no duration stated."""
    assert "Every participant in the study received a one-time intravenous infusion of 1×10^8 MSCs" in FLAT
    got = fetch("SELECT patient_id, infusion, day, amount, unit, route, duration_min FROM doses"
                f" WHERE study_id = '{STUDY}'")
    assert sorted(got) == [(p, 1, 0, 1e8, "cells", "IV", None) for p in IDS]


def test_no_adverse_event_rows(fetch):
    """Abstract: "no adverse events associated with the treatment were observed". Complications go
    to findings instead, so the study has no adverse_events rows."""
    assert "no adverse events associated with the treatment were observed" in FLAT
    assert fetch(f"SELECT count(*) FROM adverse_events WHERE study_id = '{STUDY}'") == [(0,)]


# --- Table 1 (and the Results) against Table 2: reported_vs_computed ------------------------


@pytest.fixture(scope="module")
def computed(bundled_registry):
    cols = ["reported_id", "reported_value", "value_text", "computed_value", "computed_low",
            "computed_high", "agrees", "note"]
    got = rows(bundled_registry,
               f"SELECT {', '.join(cols)} FROM reported_vs_computed WHERE study_id = '{STUDY}'")
    return {r[0]: dict(zip(cols, r)) for r in got}


AGE = "Median age – years (range)\t68.8 (61 – 83)"
LOS = "Total length of stay (LOS) days\t14 (6 – 26)"
LOS_POST = "LOS post-treatment\t11 (5 – 26)"


REPORTED = [
    # Table 2 ages sorted: 58 61 61 65 69 73 75 75 83. The median (5th of 9) is 69. The printed 68.8 is
    # the mean 620/9 = 68.89 truncated.
    ("t1-age-median", AGE, 69, 69, False),
    # The youngest is 006, aged 58. Table 1 prints 61, and the Results text prints 46.
    ("t1-age-min", AGE, 58, 58, False),
    ("res-age-min", "ranging in age from 46 to 83 years old", 58, 58, False),
    ("t1-age-max", AGE, 83, 83, True),
    # Female: 001 002 004 009 = 4, and 4/9 = 44.44 prints as 44.4.
    ("t1-female-n", "Female sex – n (%)\t4 (44.4)", 4, 4, True),
    ("t1-female-pct", "Female sex – n (%)\t4 (44.4)", 400 / 9, 400 / 9, True),
    # Steroids: "steroids" for 001 002 003 007, plus methylprednisolone for 008 = 5 (55.56%), not 9.
    ("t1-steroids-n", "Steroids, n (%)\t9 (100)", 5, 5, False),
    ("t1-steroids-pct", "Steroids, n (%)\t9 (100)", 500 / 9, 500 / 9, False),
    # Hydroxychloroquine: 001 003 005 008 = 4 (44.44%), not 7.
    ("t1-hcq-n", "Hydroxychloroquine, n (%)\t7 (77.7)", 4, 4, False),
    ("t1-hcq-pct", "Hydroxychloroquine, n (%)\t7 (77.7)", 400 / 9, 400 / 9, False),
    # IL-6 inhibitor: tocilizumab for 002 004 006 = 3 (33.33%), not 5.
    ("t1-il6-n", "Interleukin-6 inhibitor, n (%)\t5 (55.5)", 3, 3, False),
    ("t1-il6-pct", "Interleukin-6 inhibitor, n (%)\t5 (55.5)", 300 / 9, 300 / 9, False),
    # Antibiotics: azithromycin for 001 and 003, levofloxacin for 005 = 3, not 9. Voriconazole (006) is
    # an antifungal, and 002's sulfamethoxazole/trimethoprim was given after discharge.
    ("t1-antibiotics-n", "Antibiotics, n (%)\t9 (100)", 3, 3, False),
    ("t1-antibiotics-pct", "Antibiotics, n (%)\t9 (100)", 300 / 9, 300 / 9, False),
    # Antiviral: no patient's Table 2 treatments include an antiviral, so 0, not 2.
    ("t1-antiviral-n", "Antiviral, n (%)\t2 (22.2)", 0, 0, False),
    ("t1-antiviral-pct", "Antiviral, n (%)\t2 (22.2)", 0, 0, False),
    # Obesity: no condition list names it, and 006's list is NA, so 0 to 1 (0-11.1%). 4 is outside.
    ("t1-obesity-n", "Obesity – n (%)\t4 (44.4)", 0, 1, False),
    ("t1-obesity-pct", "Obesity – n (%)\t4 (44.4)", 0, 100 / 9, False),
    # Hypertension: "HT" for 002 003 007 009 = 4; 006's NA may hide a 5th, so 4 to 5 and undetermined.
    # 004 has only "Severe pulmonary hypertension", which is coded separately.
    ("t1-ht-n", "Hypertension – n (%)\t5 (55.5)", 4, 5, None),
    ("t1-ht-pct", "Hypertension – n (%)\t5 (55.5)", 400 / 9, 500 / 9, None),
    # Type II diabetes: DM2 for 003 007 008 = 3, or 4 if 006's NA hides it. 3 is inside, so undetermined.
    ("t1-dm2-n", "Type II Diabetes – n (%)\t3 (33.3)", 3, 4, None),
    # Anticoagulants: enoxaparin for everyone but 006 = 8. 8/9 = 88.89 truncates to 88.8 (it would round
    # to 88.9).
    ("t1-anticoag-n", "Anticoagulants, n (%)\t8 (88.8)", 8, 8, True),
    ("t1-anticoag-pct", "Anticoagulants, n (%)\t8 (88.8)", 800 / 9, 800 / 9, True),
    # Mechanical ventilation: Days intubated > 0 for 002 006 007 009 = 4.
    ("t1-mv-n", "Mechanical ventilation, n (%)\t4 (44.4)", 4, 4, True),
    ("t1-mv-pct", "Mechanical ventilation, n (%)\t4 (44.4)", 400 / 9, 400 / 9, True),
    # Total LOS, Days Hospitalized sorted: 6 6 9 10 12 19 19 25 26. The median is 12, not 14 (the mean is
    # 132/9 = 14.67). The min 6 and max 26 agree.
    ("t1-los-median", LOS, 12, 12, False),
    ("t1-los-min", LOS, 6, 6, True),
    ("t1-los-max", LOS, 26, 26, True),
    # LOS from the infusion = Days Hospitalized minus 0 to 4 days. The low ends, sorted, are
    # 2 2 5 6 8 15 15 21 22: median 8, min 2, max 22. The high ends are the Days Hospitalized
    # themselves: median 12, min 6, max 26. 11, 5 and 26 all lie inside these ranges.
    ("t1-lospost-median", LOS_POST, 8, 12, None),
    ("t1-lospost-min", LOS_POST, 2, 6, None),
    ("t1-lospost-max", LOS_POST, 22, 26, None),
    # Alive on day 7: 5 are known alive (see test_known_alive_through below), and 4 are discharged
    # before day 7 possibly and never seen again. That gives 5 to 9 (55.6-100%); 8 is inside.
    ("t1-alive-d7-n", "7 days, n (%)\t8 (88.8)", 5, 9, None),
    ("t1-alive-d7-pct", "7 days, n (%)\t8 (88.8)", 500 / 9, 100, None),
    ("t1-n", "\tAll patients (n=9)", 9, 9, True),
]


@pytest.mark.parametrize("reported_id, printed, low, high, agrees", REPORTED,
                         ids=[case[0] for case in REPORTED])
def test_reported_against_rows(computed, reported_id, printed, low, high, agrees):
    """The figure the paper prints (Table 1 line, tab-separated as in the paper, or a Results phrase)
    against the range the Table 2 rows allow. computed_value is given only when the range is a
    single value. agrees is False when the printed figure lies outside the range, and NULL when it
    lies inside a range the rows cannot narrow."""
    assert printed in PAPER
    row = computed[reported_id]
    assert row["value_text"] in re.findall(r"\d+(?:\.\d+)?", printed)
    assert row["reported_value"] == float(row["value_text"])
    assert (row["computed_low"], row["computed_high"]) == (pytest.approx(low), pytest.approx(high))
    assert row["computed_value"] == (pytest.approx(low) if low == high else None)
    assert row["agrees"] is agrees


@pytest.mark.parametrize("reported_id, truncated_only", [
    ("t1-anticoag-pct", True),  # 8/9 = 88.888...: truncated 88.8 = printed, rounded 88.9 is not
    ("t1-female-pct", False),   # 4/9 = 44.444...: both truncation and rounding give 44.4
    ("t1-mv-pct", False),       # the same 4/9
])
def test_percentages_are_truncated(computed, reported_id, truncated_only):
    """Table 1 truncates percentages (8/9 is printed 88.8). The note says so when only truncation matches."""
    row = computed[reported_id]
    assert row["agrees"] is True
    assert ("agrees only when truncated, not when rounded" in row["note"]) is truncated_only


def test_age_conflict_between_table1_and_results(fetch):
    """The paper states the minimum age twice. The Results say "ranging in age from 46 to 83", and
    Table 1 says "68.8 (61 – 83)". This is Perez's only text-vs-text conflict."""
    got = fetch(
        "SELECT variable, statistic, value_a, locator_a, quote_a, value_b, locator_b, quote_b"
        f" FROM reported_conflicts WHERE study_id = '{STUDY}'")
    assert len(got) == 1
    variable, statistic, value_a, locator_a, quote_a, value_b, locator_b, quote_b = got[0]
    assert (variable, statistic, value_a, value_b) == ("age_years", "min", "46", "61")
    assert locator_a.startswith("Results") and locator_b.startswith("Table 1")
    assert "46" in quote_a and collapse(quote_a) in FLAT
    assert "\t".join(quote_b.split(" | ")) == AGE


# --- Views: outcomes, survival, overview, trajectories ---------------------------------------


def last_seen_alive(pid: str) -> int:
    """The last day the rows show the patient alive. A stay of h days counted from an admission 0-4
    days before the infusion lasts at least through day h - 4. Every patient also has a Day 4 cell."""
    return max(hospital_days(pid) - GAP_MAX, 4)


def test_known_alive_through(fetch):
    """Nobody's death is recorded: 8 are discharged with "improvement" and 006 is still hospitalised.
    last_followup_day = max(Days Hospitalized - 4, 4): 001 9-4=5, 002 26-4=22, 003 max(2,4)=4,
    004 15, 005 max(2,4)=4, 006 21, 007 6, 008 8, 009 15."""
    got = {p: (s, d) for p, s, d in fetch(
        f"SELECT patient_id, vital_status, last_followup_day FROM patient_outcomes WHERE study_id = '{STUDY}'")}
    expected = {"001": 5, "002": 22, "003": 4, "004": 15, "005": 4, "006": 21, "007": 6, "008": 8, "009": 15}
    assert {p: last_seen_alive(p) for p in IDS} == expected
    assert got == {p: ("alive", d) for p, d in expected.items()}


@pytest.mark.parametrize("day, known_alive", [
    # Last seen alive on day 7 or later: 002 (22), 004 (15), 006 (21), 008 (8), 009 (15). The others may
    # have left hospital before day 7 and are not seen again: 001 (5), 003 (4), 005 (4), 007 (6).
    (7, {"002", "004", "006", "008", "009"}),
    # On day 14, 008 (last seen on day 8) drops out as well.
    (14, {"002", "004", "006", "009"}),
])
def test_survival_at_day(fetch, day, known_alive):
    """Survival among patients whose status is known: everyone known is alive (no death recorded)."""
    assert {p for p in IDS if last_seen_alive(p) >= day} == known_alive
    got = fetch(
        "SELECT day, n_patients, n_known, n_alive, survival, n_dead, n_unknown FROM survival_at_day"
        f" WHERE study_id = '{STUDY}'")
    n = len(known_alive)
    assert [r[1:] for r in got if r[0] == day] == [(9, n, n, 1.0, 0, 9 - n)]


def test_study_overview(fetch):
    """9 patients, 4 female (001 002 004 009). Ages sorted 58 61 61 65 69 73 75 75 83 give median 69,
    min 58 and max 83. 4 ventilated (Days intubated > 0) and 4 in ICU (Days in ICU > 0: 002 16,
    006 25, 007 10, 009 19). No deaths. Follow-up 26 ("As of day 26"). 1x10^8 cells IV for all 9."""
    assert "As of day 26, after the infusion of MSCs, eight out of the nine patients" in FLAT
    got = fetch(
        "SELECT n_patients, n_female, age_median, age_min, age_max, n_mechanical_ventilation, n_icu,"
        " n_deaths, followup_days, dose_summary, n_patients_reported FROM study_overview"
        f" WHERE study_id = '{STUDY}'")
    assert got == [(9, 4, 69.0, 58.0, 83.0, 4, 4, 0, 26, "1x10^8 cells IV (9 patients)", 9)]


@pytest.mark.parametrize("analyte, context, day, n, median, q1, q3", [
    # Day 0 RR for 8 patients (008 has none): 14 20 27 23 30 20 22 22, sorted 14 20 20 22 22 23 27 30.
    # Median (22+22)/2 = 22. q1 at position 7*0.25 = 1.75 gives 20; q3 at 5.25 gives 23 + 0.25*(27-23) = 24.
    ("resp_rate", None, 0, 8, 22, 20, 24),
    # Day 4 RR for 9 patients: 13 18 18 29 23 20 20 21 40, sorted 13 18 18 20 20 21 23 29 40. Median 20,
    # q1 at position 2 = 18, q3 at position 6 = 23.
    ("resp_rate", None, 4, 9, 20, 18, 23),
    # Day 0 SpO2 on the ventilator: 002 97, 006 92, 007 96, sorted 92 96 97. q1 (position 0.5) 94, q3 (1.5) 96.5.
    ("spo2", "mechanical ventilation", 0, 3, 96, 94, 96.5),
    # Day 0 SpO2 on 15 L/min: 004 96, 005 96, 009 92, sorted 92 96 96. q1 (position 0.5) 94, q3 (1.5) 96.
    ("spo2", "O2 15 L/min", 0, 3, 96, 94, 96),
    # Room air on Day 0 is only 003's 89%. It is never pooled with its 99% on 8 L/min.
    ("spo2", "room air", 0, 1, 89, 89, 89),
])
def test_measurement_trajectory(fetch, analyte, context, day, n, median, q1, q3):
    got = [r[3:] for r in fetch(
        "SELECT analyte, context, day, n, median, q1, q3 FROM measurement_trajectory"
        f" WHERE study_id = '{STUDY}'") if r[:3] == (analyte, context, day)]
    assert got == [(n, pytest.approx(median), pytest.approx(q1), pytest.approx(q3))]


# --- Provenance ------------------------------------------------------------------------------

TABLES = ["studies", "field_sources", "products", "arms", "patients", "doses", "measurements", "events",
          "durations", "comorbidities", "treatments", "findings", "study_facts", "reported_aggregates"]
# Rows per table. The provenance view lists the study's own row under "studies" together with the
# study's per-field sources; a product's or patient's per-field sources come under "field_sources".
COUNTS_SQL = " UNION ALL ".join(
    [f"SELECT '{t}', count(*) FROM {t} WHERE study_id = '{STUDY}'" for t in TABLES[2:]]
    + [f"SELECT 'studies', 1 + count(*) FILTER (WHERE table_name = 'studies') FROM field_sources"
       f" WHERE study_id = '{STUDY}'",
       f"SELECT 'field_sources', count(*) FILTER (WHERE table_name <> 'studies') FROM field_sources"
       f" WHERE study_id = '{STUDY}'"]
)


def unquoted(quote: str | None, note: str | None) -> list[str]:
    """What is wrong with a quote as a verbatim citation of the paper (empty: nothing).
    A quote is in the paper once whitespace is collapsed. A table-row quote is the cells joined
    with " | ": its note must say so, and the cells, tab-joined, must be a line of the paper."""
    if not quote:
        return ["no quote"]
    if " | " in quote:
        problems = [] if "joined with" in (note or "") else ["' | ' quote without a note saying so"]
        problems += [f"cell not in paper: {c!r}" for c in quote.split(" | ") if collapse(c) not in FLAT]
        if "\t".join(quote.split(" | ")) not in PAPER:
            problems.append("cells are not one tab-separated row of the paper")
        return problems
    return [] if collapse(quote) in FLAT else ["not in paper"]


def test_unquoted_catches_a_bad_quote():
    """The check can fail: an invented quote, a reordered table row and a row without its note."""
    assert unquoted("Sat 99% on room air", None) == ["not in paper"]
    assert unquoted("Age | 69 | 61", "Table cells joined with \" | \".") == [
        "cells are not one tab-separated row of the paper"]
    assert unquoted("Age | 61 | 69 | 75 | 83 | 61 | 58 | 65 | 75 | 73", None) == [
        "' | ' quote without a note saying so"]


@pytest.mark.parametrize("table", TABLES)
def test_every_row_quotes_the_paper(fetch, table):
    """Every row of every table has a source whose quote is verbatim in the paper."""
    expected = dict(fetch(COUNTS_SQL))[table]
    got = [r[1:] for r in fetch(
        "SELECT table_name, item, document_id, locator, quote, source_note FROM provenance"
        f" WHERE study_id = '{STUDY}'") if r[0] == table]
    assert expected > 0 and len(got) == expected
    bad = [(item, problems) for item, doc, locator, quote, note in got
           if (problems := unquoted(quote, note) + ([] if locator and doc == "paper" else ["no locator"]))]
    assert bad == []


def test_licence(fetch):
    """Title page: "distributed under the terms of the Creative Commons Attribution License CC-BY 4.0".
    The licence is recorded on the document and reaches every provenance row."""
    assert "Creative Commons Attribution License CC-BY 4.0" in FLAT
    documents = fetch(f"SELECT document_id, licence FROM documents WHERE study_id = '{STUDY}'")
    assert documents == [("paper", "CC-BY-4.0")]
    assert fetch(f"SELECT DISTINCT licence FROM provenance WHERE study_id = '{STUDY}'") == [("CC-BY-4.0",)]


def test_where_from_patient_004(bundled_registry):
    """The named query where_from lists 004's facts with where they stand in the paper. Every Table 2
    cell it cites is column 004's own cell in the paper, e.g. "Severe pulmonary hypertension,
    interstitial lung disease" for the conditions."""
    result = bundled_registry.query("where_from", study=STUDY, patient="004")
    got = [dict(zip(result.columns, r)) for r in result.rows()]
    assert {r["table_name"] for r in got} >= {"patients", "durations", "measurements", "comorbidities",
                                              "treatments", "events", "doses"}
    assert all(r["locator"] and r["quote"] for r in got)
    cells = [(m[1], m[2], r["quote"]) for r in got
             if (m := re.fullmatch(r'Table 2 row "(.+)", column (\d{3})', r["locator"]))]
    assert len(cells) >= 10
    assert all(col == "004" and quote == T2[label]["004"] for label, col, quote in cells)
    conditions = {r["quote"] for r in got if r["table_name"] == "comorbidities"}
    assert conditions == {"Severe pulmonary hypertension, interstitial lung disease"}
