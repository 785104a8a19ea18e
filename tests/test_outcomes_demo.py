"""Outcome views on the hand-made demo package (its contents are summarised in test_views_demo.py).

Ventilation: p1 intubated day -2, extubated day 5, alive on day 28; p3 intubated day 0, died day 20.
Stays (hospital, from admission): p1 20, p2 13, p3 25 (ongoing), p4 11; ICU p1 10; ventilation p1 7.
"""

from __future__ import annotations

import pytest

from conftest import rows, run
from registry.stats import change_test


def test_ventilation_outcomes(demo_registry):
    """n_ventilated 2 (p1, p3), n_extubated 1 (p1 on day 5) -> median extubation day 5.
    VFD28: p1 alive on day 28 (known alive that day), ventilated from day 0 (intubated before it)
    to day 5 -> 28 - 5 = 23; p3 died on day 20 <= 28 -> 0. Median (0 + 23) / 2 = 11.5, both known.
    Ventilated at index: p1 (intubated -2, extubated 5) and p3 (intubated 0) = 2."""
    assert rows(demo_registry, "SELECT * FROM ventilation_outcomes") == [("demo-2024", 2, 1, 5.0, 11.5, 2, 2)]


def test_vfd28_is_null_when_day_28_status_is_unknown(empty_registry, demo_package):
    """Without p1's known_alive on day 28, p1's last day alive is 17 (admission -3 + 20 days):
    VFD28 unknown; only p3's 0 remains."""
    events = demo_package / "events.csv"
    events.write_text(events.read_text().replace("1,known_alive,28,,,survived the 28-day follow-up,s-methods\n", ""))
    empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT vfd28_median, n_vfd28_known FROM ventilation_outcomes") == [(0.0, 1)]


def test_stay_outcomes(demo_registry):
    """Hospital: 4 stated; p3's 25 days are ongoing, so the statistics use 11, 13, 20:
    median 13, q1 = 11 + 0.5 * (13 - 11) = 12, q3 = 13 + 0.5 * (20 - 13) = 16.5, min 11, max 20.
    ICU: p1's 10 days. Ventilation: p1's 7 days."""
    assert rows(demo_registry, "SELECT * FROM stay_outcomes ORDER BY stay") == [
        ("demo-2024", "hospital", 4, 13.0, 12.0, 16.5, 11.0, 20.0, 1, 3, 0, "admission"),
        ("demo-2024", "icu", 1, 10.0, 10.0, 10.0, 10.0, 10.0, 0, 1, 0, "admission"),
        ("demo-2024", "ventilation", 1, 7.0, 7.0, 7.0, 7.0, 7.0, 0, 1, 0, "admission"),
    ]


def test_adverse_event_summary(demo_registry):
    """p1's grade-2 hypotension is stated infusion-related; p3's grade-1 fever began on day 1: not."""
    assert rows(
        demo_registry,
        "SELECT term, severity, n_events, n_patients, infusion_related, infusion_related_basis, onset_days"
        " FROM adverse_event_summary ORDER BY term",
    ) == [
        ("fever", 1, 1, 1, False, None, "1"),
        ("hypotension", 2, 1, 1, True, "stated", "0"),
    ]


def test_infusion_related_by_onset_on_day_0(empty_registry, demo_package):
    """The fever moved to day 0, with nothing stated: infusion-related by timing, flagged as such."""
    path = demo_package / "adverse_events.csv"
    path.write_text(path.read_text().replace("3,fever,1,1,,2,false,", "3,fever,1,0,,2,,"))
    empty_registry.import_package(demo_package)
    assert rows(
        empty_registry, "SELECT infusion_related, infusion_related_basis FROM adverse_event_summary WHERE term = 'fever'"
    ) == [(True, "onset on day 0")]


def test_biomarker_change(demo_registry):
    """SpO2 on room air, baseline day 0: p1 90, p3 85, p4 92 (p2 has no day-7 value). Day 7: p1 95
    (+5, 5/90), p3 94 (+9, 9/85), p4 97 (+5, 5/92). p3's 99 on O2 has no O2 baseline: left out.
    CRP has no later value; creatinine has no day: neither appears."""
    got = rows(
        demo_registry,
        "SELECT patient_id, analyte, context, baseline_day, baseline, day, value, change FROM biomarker_change ORDER BY patient_id",
    )
    assert got == [
        ("1", "spo2", "room air", 0, 90.0, 7, 95.0, 5.0),
        ("3", "spo2", "room air", 0, 85.0, 7, 94.0, 9.0),
        ("4", "spo2", "room air", 0, 92.0, 7, 97.0, 5.0),
    ]
    relative = dict(rows(demo_registry, "SELECT patient_id, relative_change FROM biomarker_change"))
    assert relative == pytest.approx({"1": 5 / 90, "3": 9 / 85, "4": 5 / 92})


def test_biomarker_change_summary(demo_registry):
    """Changes 5, 9, 5: median 5; q1 = 5; q3 = 5 + 0.5 * (9 - 5) = 7; relative 0.0543 0.0556 0.1059 -> 5/90."""
    (row,) = rows(demo_registry, "SELECT analyte, context, day, n, median_change, q1_change, q3_change, median_relative_change, unit FROM biomarker_change_summary")
    assert row[:8] == ("spo2", "room air", 7, 3, 5.0, 5.0, 7.0, pytest.approx(5 / 90))
    assert row[8] == "%"


def test_baseline_is_the_last_value_at_or_before_day_0(empty_registry, demo_package):
    """A day -2 value of 80 for p1 is not the baseline: the day-0 value 90 is later."""
    path = demo_package / "measurements.csv"
    path.write_text(path.read_text() + "1,-2,,spo2,80,%,room air,s-table\n")
    empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT baseline_day, baseline FROM biomarker_change WHERE patient_id = '1'") == [(0, 90.0)]


def test_dose_normalized(demo_registry):
    """1x10^6 cells/kg for everyone; only p1's weight (70 kg) is known: total 7x10^7 for p1, NULL otherwise."""
    assert rows(demo_registry, "SELECT patient_id, cells_per_kg, total_cells, n_infusions, tissue_source, culture, weight_kg, dose_as_reported FROM dose_normalized ORDER BY patient_id") == [
        ("1", 1e6, 7e7, 1, "umbilical cord", "hypoxic (5% O2)", 70.0, "1x10^6 cells/kg"),
        ("2", 1e6, None, 1, "umbilical cord", "hypoxic (5% O2)", None, "1x10^6 cells/kg"),
        ("3", 1e6, None, 1, "umbilical cord", "hypoxic (5% O2)", None, "1x10^6 cells/kg"),
        ("4", 1e6, None, 1, "umbilical cord", "hypoxic (5% O2)", None, "1x10^6 cells/kg"),
    ]


def test_total_dose_becomes_per_kg_only_with_a_weight(empty_registry, demo_package):
    """p1 gets a second infusion of 3.5x10^7 cells (total): per kg = 1e6 + 3.5e7 / 70 = 1.5e6;
    total = 3.5e7 + 1e6 * 70 = 1.05e8. p2 gets the same but has no weight: per-kg and total both NULL."""
    path = demo_package / "doses.csv"
    path.write_text(path.read_text() + "1,msc,2,3,3.5e7,cells,IV,,s-methods\n2,msc,2,3,3.5e7,cells,IV,,s-methods\n")
    empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT patient_id, cells_per_kg, total_cells, n_infusions, dose_as_reported FROM dose_normalized WHERE patient_id IN ('1', '2') ORDER BY 1") == [
        ("1", 1.5e6, 1.05e8, 2, "1x10^6 cells/kg + 3.5x10^7 cells"),
        ("2", None, None, 2, "1x10^6 cells/kg + 3.5x10^7 cells"),
    ]


def test_change_test_says_when_n_is_too_small(demo_registry):
    """3 non-zero pairs: the smallest two-sided p of an exact test is 2/2^3 = 0.25 > 0.05."""
    result = change_test(demo_registry, "demo-2024", "spo2", 7)
    assert (result.n_pairs, result.n_zero, result.median_change, result.w_plus, result.p_value) == (3, 0, 5.0, 6.0, None)
    assert result.message == (
        "n = 3 non-zero pairs is too small to test: the smallest two-sided p an exact test can give is 2/2^3 = 0.25 > 0.05"
    )


def test_change_test_exact_with_ties(bundled_registry):
    """Perez Table 2 respiratory rate, day 0 -> day 4: 001 14->13 (-1), 002 20->18 (-2), 003 27->18 (-9),
    004 23->29 (+6), 005 30->23 (-7), 006 20->20 (0, dropped), 007 22->20 (-2), 009 22->40 (+18);
    008 has no day-0 rate. Ranks of |d| (1, 2, 2, 6, 7, 9, 18): 1, 2.5, 2.5, 4, 5, 6, 7.
    W+ = 4 + 7 = 11. Under H0 each of the 2^7 = 128 sign patterns is equally likely; |W+ - 14| >= 3
    in 86 of them (counted by brute force below), so p = 86/128 = 0.671875."""
    import itertools

    ranks = [1, 2.5, 2.5, 4, 5, 6, 7]
    extreme = sum(
        1 for signs in itertools.product((0, 1), repeat=7) if abs(sum(r for r, s in zip(ranks, signs) if s) - 14) >= 3
    )
    assert extreme == 86
    result = change_test(bundled_registry, "perez-2023", "resp_rate", 4)
    assert (result.n_pairs, result.n_zero, result.median_change, result.w_plus) == (8, 1, -1.5, 11.0)
    assert result.p_value == pytest.approx(86 / 128)
    assert result.method == "exact (all 128 sign patterns), two-sided"


def test_change_test_cli_needs_a_context_when_ambiguous(bundled_registry):
    result = run("change-test", "perez-2023", "spo2", "4", db=bundled_registry.path)
    assert result.exit_code == 1
    assert "measured in several contexts ('O2 15 L/min', 'mechanical ventilation', 'room air')" in result.stderr
    ok = run("change-test", "perez-2023", "resp_rate", "4", "--format", "csv", db=bundled_registry.path)
    assert ok.exit_code == 0 and "p_value,0.671875" in ok.stdout


def test_survival_by_ventilation_at_baseline(demo_registry):
    """Day 14: ventilated at baseline p1 (alive) and p3 (dies day 20: alive) -> 2/2;
    not ventilated p2 (died day 10) and p4 (last seen day 8: unknown) -> 0 of 1 known."""
    got = demo_registry.query("survival_by", by="ventilation_at_baseline", day=14).rows()
    assert got == [
        ("ventilation_at_baseline", "not ventilated", 14, 1, 2, 1, 0, 0.0),
        ("ventilation_at_baseline", "ventilated", 14, 1, 2, 2, 2, 1.0),
    ]
