"""Parameter sets that exercise every named query on a registry's own data (engines tests)."""

from __future__ import annotations

from typing import Any

from .. import sqlfiles


def query_cases(con) -> list[tuple[str, dict[str, Any]]]:
    """(query name, parameters) pairs covering every named query, read from a DuckDB registry."""
    studies = [
        r[0] for r in con.execute("SELECT study_id FROM studies ORDER BY 1").fetchall()
    ]
    cases: list[tuple[str, dict[str, Any]]] = []
    for study in studies:
        cases += [
            ("adverse_events_of", {"study": study}),
            ("reported_check", {"study": study}),
            ("study_patients", {"study": study}),
        ]
    for study, analyte in con.execute(
        "SELECT DISTINCT study_id, analyte FROM measurements ORDER BY 1, 2"
    ).fetchall()[:12]:
        cases.append(("trajectory", {"study": study, "analyte": analyte}))
    for study, patient in con.execute(
        "SELECT study_id, min(patient_id) FROM patients GROUP BY 1 ORDER BY 1"
    ).fetchall():
        cases.append(("where_from", {"study": study, "patient": patient}))
    for analyte, day in con.execute(
        "SELECT DISTINCT analyte, day FROM biomarker_change_summary ORDER BY 1, 2"
    ).fetchall()[:12]:
        cases.append(("change_at", {"analyte": analyte, "day": day}))
    cases += [("disagreements", {}), ("studies_by_product", {})]
    for day in (7, 28, 60):
        cases.append(("survival_at", {"day": day}))
    for by in ("dose", "cell_source", "ventilation_at_baseline"):
        cases.append(("survival_by", {"by": by, "day": 28}))
    missing = set(sqlfiles.load_queries()) - {name for name, _ in cases}
    if missing:
        raise AssertionError(f"no test case for named queries {sorted(missing)}")
    return cases
