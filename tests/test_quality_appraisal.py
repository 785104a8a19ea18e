"""Quality appraisal (JBI checklist for case series): the catalog, the bundled appraisals, the views
quality_appraisal and quality_summary, and the import rules for appraisal.csv."""

from __future__ import annotations

import pytest

from conftest import rows
from registry import PackageError, Registry

CURATORS = "caseregistry curators (from the published text)"
HEADER = "item,answer,answered_by,rationale,source_id\n"


def write_appraisal(package, answers: dict[int, str], extra: str = "") -> None:
    """An appraisal.csv for the demo package: one row per item, in item order (row = item + 1)."""
    lines = [f"{item},{answer},demo curators,why item {item},s-methods\n" for item, answer in answers.items()]
    (package / "appraisal.csv").write_text(HEADER + "".join(lines) + extra, encoding="utf-8")


ALL_UNCLEAR = {item: "unclear" for item in range(1, 11)}


def first_problem(package) -> str:
    with pytest.raises(PackageError) as raised:
        Registry.validate(package)
    return str(raised.value.problems[0])


# ---- the catalog ------------------------------------------------------------------------------


def test_catalog_has_the_ten_items(empty_registry):
    got = rows(empty_registry, "SELECT item, question FROM appraisal_items ORDER BY item")
    assert [g[0] for g in got] == list(range(1, 11))
    assert got[0][1] == "Were there clear criteria for inclusion in the case series?"
    assert got[3][1] == "Did the case series have consecutive inclusion of participants?"
    assert got[9][1] == "Was statistical analysis appropriate?"


# ---- the bundled appraisals -------------------------------------------------------------------

PEREZ = ["yes", "unclear", "unclear", "unclear", "unclear", "yes", "unclear", "no", "yes", "no"]
IGLESIAS = ["yes", "yes", "yes", "unclear", "unclear", "unclear", "unclear", "yes", "no", "no"]


@pytest.mark.parametrize("study_id, answers", [("perez-2023", PEREZ), ("iglesias-2021", IGLESIAS)])
def test_bundled_answers(bundled_registry, study_id, answers):
    got = rows(
        bundled_registry,
        f"SELECT item, answer, answered_by FROM quality_appraisal WHERE study_id = '{study_id}' ORDER BY item",
    )
    assert got == [(i + 1, a, CURATORS) for i, a in enumerate(answers)]


def test_every_answer_has_a_reason_and_a_resolvable_source(bundled_registry):
    """A rationale on every row; a named source always resolves to its locator and quote."""
    assert rows(bundled_registry, "SELECT study_id, item FROM quality_appraisal WHERE length(rationale) < 40") == []
    assert rows(
        bundled_registry,
        "SELECT study_id, item FROM quality_appraisal WHERE source_id IS NOT NULL AND (locator IS NULL OR quote IS NULL)",
    ) == []


def test_view_joins_question_and_source(bundled_registry):
    """Perez item 10 rests on Table 1's age row, whose quote is the printed '68.8 (61 – 83)'."""
    (row,) = rows(
        bundled_registry,
        "SELECT question, answer, source_id, locator, quote FROM quality_appraisal WHERE study_id = 'perez-2023' AND item = 10",
    )
    assert row[0] == "Was statistical analysis appropriate?"
    assert row[1:4] == ("no", "s-t1-age", 'Table 1 row "Median age – years (range)"')
    assert "68.8 (61 – 83)" in row[4]


def test_quality_summary(bundled_registry):
    """Perez: yes = items 1, 6, 9 (3); no = 8, 10 (2); unclear = 2, 3, 4, 5, 7 (5); 3+2+5 = 10.
    Iglesias: yes = 1, 2, 3, 8 (4); no = 9, 10 (2); unclear = 4, 5, 6, 7 (4); 4+2+4 = 10."""
    got = {
        r[0]: r[1:]
        for r in rows(
            bundled_registry,
            "SELECT study_id, appraised, n_items, n_yes, n_no, n_unclear, n_not_applicable, summary, items_no, items_unclear, answered_by"
            " FROM quality_summary WHERE appraised",
        )
    }
    assert got == {
        "perez-2023": (True, 10, 3, 2, 5, 0, "3 yes of 10 (2 no, 5 unclear)", "8, 10", "2, 3, 4, 5, 7", CURATORS),
        "iglesias-2021": (True, 10, 4, 2, 4, 0, "4 yes of 10 (2 no, 4 unclear)", "9, 10", "4, 5, 6, 7", CURATORS),
    }
    per_row = rows(bundled_registry, "SELECT DISTINCT study_id, n_yes, n_items FROM quality_appraisal ORDER BY study_id")
    assert per_row == [("iglesias-2021", 4, 10), ("perez-2023", 3, 10)]


def test_secondary_studies_are_not_appraised_and_say_why(bundled_registry):
    got = rows(
        bundled_registry,
        "SELECT study_id, appraised, n_items, summary, note FROM quality_summary WHERE secondary ORDER BY study_id",
    )
    assert [g[0] for g in got] == ["leng-2020", "liang-2020", "mesoblast-2020", "pluristem-2020"]
    for study_id, appraised, n_items, summary, note in got:
        assert (appraised, n_items, summary) == (False, 0, None)
        assert note.startswith("not appraised: figures quoted by iglesias-2021")


def test_patient_study_without_appraisal(demo_registry):
    """The demo package has no appraisal.csv: one summary row, not appraised, and no item rows."""
    assert rows(demo_registry, "SELECT appraised, n_items, note FROM quality_summary") == [
        (False, 0, "not appraised: the package holds no appraisal")
    ]
    assert rows(demo_registry, "SELECT count(*) FROM quality_appraisal") == [(0,)]


# ---- import rules -----------------------------------------------------------------------------


def test_a_complete_appraisal_imports(empty_registry, demo_package):
    answers = dict(ALL_UNCLEAR) | {1: "yes", 4: "no", 9: "not applicable"}
    write_appraisal(demo_package, answers)
    result = empty_registry.import_package(demo_package)
    assert result.row_counts["appraisal"] == 10
    assert rows(empty_registry, "SELECT summary, items_no FROM quality_summary") == [
        ("1 yes of 10 (1 no, 7 unclear, 1 not applicable)", "4")
    ]


@pytest.mark.parametrize("bad", ["maybe", "Yes", "n/a"])
def test_a_bad_answer_is_refused(demo_package, bad):
    """Item 3 sits on line 4 (header = line 1)."""
    write_appraisal(demo_package, ALL_UNCLEAR | {3: bad})
    assert first_problem(demo_package) == (
        f"appraisal.csv, row 4, column answer: answer must be yes, no, unclear or not applicable (value: '{bad}')"
    )


def test_a_bad_answer_writes_nothing(empty_registry, demo_package):
    write_appraisal(demo_package, ALL_UNCLEAR | {3: "maybe"})
    with pytest.raises(PackageError):
        empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT count(*) FROM studies") == [(0,)]
    assert rows(empty_registry, "SELECT count(*) FROM appraisal") == [(0,)]


@pytest.mark.parametrize("item", ["11", "0"])
def test_an_unknown_item_is_refused(demo_package, item):
    """Ten good rows (lines 2-11) and an eleventh on line 12 naming an item the checklist lacks."""
    write_appraisal(demo_package, ALL_UNCLEAR, extra=f"{item},yes,demo curators,why,s-methods\n")
    assert first_problem(demo_package) == (
        "appraisal.csv, row 12, column item: item must be an item number of the JBI checklist for case series, "
        f"1 to 10 (registry sql \"FROM appraisal_items\") (value: '{item}')"
    )


def test_a_partial_appraisal_is_refused(demo_package):
    """Items 1-10 without 7: the missing item is named (it has no row, so no row number)."""
    write_appraisal(demo_package, {i: a for i, a in ALL_UNCLEAR.items() if i != 7})
    assert first_problem(demo_package) == (
        "appraisal.csv, column item: an appraisal answers every item of the checklist, 1 to 10 "
        "(answer unclear where the paper does not tell); the value is the item that has no row (value: '7')"
    )


def test_an_item_answered_twice_is_refused(demo_package):
    write_appraisal(demo_package, ALL_UNCLEAR, extra="2,yes,someone else,why,s-methods\n")
    assert first_problem(demo_package) == (
        "appraisal.csv, row 12: duplicate row: another row has the same item (same as row 3) (value: '2')"
    )


def test_unknown_source_and_empty_rationale_are_refused(demo_package):
    write_appraisal(demo_package, ALL_UNCLEAR)
    path = demo_package / "appraisal.csv"
    text = path.read_text().replace("1,unclear,demo curators,why item 1,s-methods", "1,unclear,demo curators,,s-nope")
    path.write_text(text)
    with pytest.raises(PackageError) as raised:
        Registry.validate(demo_package)
    problems = {str(p) for p in raised.value.problems}
    assert "appraisal.csv, row 2, column rationale: required value is empty" in problems
    assert "appraisal.csv, row 2, column source_id: source_id does not name a row of sources.csv (value: 's-nope')" in problems


def test_source_is_optional(empty_registry, demo_package):
    write_appraisal(demo_package, ALL_UNCLEAR)
    path = demo_package / "appraisal.csv"
    path.write_text(path.read_text().replace("why item 5,s-methods", "why item 5,"))
    empty_registry.import_package(demo_package)
    assert rows(empty_registry, "SELECT source_id, locator FROM quality_appraisal WHERE item = 5") == [(None, None)]
