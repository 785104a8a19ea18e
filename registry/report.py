"""`registry report`: self-contained HTML reports, one per study and one across studies.

Every number on a page is read from a view or named query through the library API
(Registry.sql / query / table_one); this module only selects, formats and draws.
Pages are filled into templates/report.html with string.Template: no template engine needed
for one page shape. Figures are embedded as data: URIs (SVG), so a report is one file.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from . import __version__, plots
from .core import Registry, _unknown
from .errors import RegistryError, UnknownName
from .importer import sql_string

TEMPLATE = Path(__file__).with_name("templates") / "report.html"
INDEX = "index.html"

Row = dict[str, Any]


# ---- reading (views and named queries only) -----------------------------------------------------


def _select(reg: Registry, sql: str) -> list[Row]:
    result = reg.sql(sql)
    return plots.as_dicts(result.columns, result.rows())


def _where(studies: Sequence[str]) -> str:
    return "study_id IN (" + ", ".join(sql_string(s) for s in studies) + ")"


def km_rows(reg: Registry, studies: Sequence[str], pooled: bool = False) -> list[Row]:
    """km_survival rows of the studies (and the pooled rows, study_id NULL, when asked)."""
    condition = _where(studies) + (" OR study_id IS NULL" if pooled else "")
    return _select(reg, f"SELECT * FROM km_survival WHERE {condition} ORDER BY study_id NULLS LAST, day")


def trajectory_rows(reg: Registry, studies: Sequence[str], analyte: str | None = None) -> tuple[list[Row], list[Row]]:
    """(measurement_trajectory rows with a day, each patient's values with a day, canonical unit)."""
    condition = _where(studies) + (f" AND analyte = {sql_string(analyte)}" if analyte else "")
    summary = _select(
        reg,
        f"SELECT study_id, analyte, context, day, n, median, q1, q3, unit FROM measurement_trajectory "
        f"WHERE {condition} AND day IS NOT NULL ORDER BY study_id, analyte, context NULLS FIRST, day",
    )
    patients = _select(
        reg,
        f"SELECT study_id, patient_id, analyte, context, day, value_canonical AS value FROM measurements "
        f"WHERE {condition} AND day IS NOT NULL ORDER BY study_id, patient_id, analyte, context, day",
    )
    return summary, patients


def analytes(reg: Registry) -> dict[str, Row]:
    return {r["analyte"]: r for r in _select(reg, "SELECT analyte, name, canonical_unit FROM analytes")}


def check_studies(reg: Registry, studies: Iterable[str]) -> list[str]:
    known = reg.studies()
    if not known:
        raise RegistryError(f"{reg.path} holds no studies yet: import one first (`registry import PACKAGE`)")
    chosen = list(dict.fromkeys(studies)) or known
    for study in chosen:
        if study not in known:
            raise UnknownName(_unknown("study", study, known))
    return chosen


# ---- HTML pieces --------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def fmt(value: Any, digits: int = 3) -> str:
    """A cell as people read it: no trailing zeros, '—' for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f} %"


@dataclass
class Col:
    key: str
    header: str
    render: Callable[[Row], str] | None = None  # returns HTML
    numeric: bool = False
    wide: bool = False


def table(rows: Sequence[Row], cols: Sequence[Col], *, row_class: Callable[[Row], str] | None = None,
          empty: str = "No rows.", table_id: str | None = None, group: str | None = None) -> str:
    """An HTML table; `group` names a column whose repeats are left blank, so groups read as blocks."""
    if not rows:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(c.header)}</th>" for c in cols)
    body = []
    previous: Any = object()
    for row in rows:
        cls = row_class(row) if row_class else ""
        cells = []
        repeated = group is not None and row.get(group) == previous
        previous = row.get(group) if group else previous
        for c in cols:
            if repeated and c.key == group:
                cells.append("<td></td>")
                continue
            content = c.render(row) if c.render else esc(fmt(row.get(c.key)))
            classes = " ".join(n for n, on in (("num", c.numeric), ("wide", c.wide)) if on)
            cells.append(f'<td class="{classes}">{content}</td>' if classes else f"<td>{content}</td>")
        body.append((f'<tr class="{cls}">' if cls else "<tr>") + "".join(cells) + "</tr>")
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(fig, caption: str, alt: str) -> str:
    return (f'<figure><img src="{plots.data_uri(fig)}" alt="{esc(alt)}">'
            f"<figcaption>{caption}</figcaption></figure>")


def section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>\n{content}\n</section>'


def note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def page(*, title: str, heading: str, subheading: str, nav: str, body: str, registry: Path) -> str:
    template = Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(title=esc(title), heading=heading, subheading=subheading, nav=nav, body=body,
                               version=esc(__version__), registry=esc(registry.name))


# ---- shared sections ----------------------------------------------------------------------------------

KM_COLS = [
    Col("study_id", "study", lambda r: esc(r["study_id"] or "pooled")),
    Col("day", "day", numeric=True),
    Col("n_at_risk", "at risk", numeric=True),
    Col("n_events", "deaths", numeric=True),
    Col("n_censored", "censored", numeric=True),
    Col("survival", "survival", numeric=True),
    Col("ci_low", "95 % CI low", numeric=True),
    Col("ci_high", "95 % CI high", numeric=True),
]

SURVIVAL_COLS = [
    Col("study_id", "study"), Col("day", "day", numeric=True), Col("n_patients", "patients", numeric=True),
    Col("n_known", "status known", numeric=True), Col("n_alive", "alive", numeric=True),
    Col("n_dead", "dead", numeric=True), Col("n_unknown", "unknown", numeric=True),
    Col("survival", "alive / known", lambda r: esc(pct(r["survival"])), numeric=True),
]

STAY_COLS = [
    Col("study_id", "study"), Col("stay", "stay"), Col("n", "n", numeric=True), Col("median", "median, days", numeric=True),
    Col("q1", "Q1", numeric=True), Col("q3", "Q3", numeric=True), Col("min", "min", numeric=True), Col("max", "max", numeric=True),
    Col("n_ongoing", "still under way", numeric=True), Col("n_none", "none (0 days)", numeric=True),
    Col("counted_from", "counted from"),
]

VENT_COLS = [
    Col("study_id", "study"), Col("n_ventilated", "ventilated", numeric=True), Col("n_extubated", "extubated", numeric=True),
    Col("extubation_day_median", "extubation day, median", numeric=True), Col("vfd28_median", "VFD28, median", numeric=True),
    Col("n_vfd28_known", "VFD28 known", numeric=True), Col("n_ventilated_at_index", "ventilated at day 0", numeric=True),
]


def _interval(row: Row) -> str:
    if row["estimate"] is None:
        return "—"
    low, high = (f"{100 * float(row[k]):.1f}" for k in ("ci_low", "ci_high"))
    return esc(f"{pct(row['estimate'])} ({low}–{high} %)")


POOLED_COLS = [
    Col("outcome", "outcome"),
    Col("study_id", "study", lambda r: esc(r["study_id"] or ("POOLED, all studies" if r["includes_secondary"] else "POOLED, primary studies"))),
    Col("n_studies", "studies", numeric=True),
    Col("n_events", "events", numeric=True), Col("n_patients", "patients", numeric=True),
    Col("estimate", "estimate (95 % CI)", _interval, numeric=True),
    Col("i2", "I²", lambda r: esc(fmt(r["i2"], 1)), numeric=True),
    Col("count_source", "count from"),
    Col("n_status_unknown", "status unknown", numeric=True),
]

AE_COLS = [
    Col("study_id", "study"), Col("term", "adverse event"), Col("severity", "grade", numeric=True),
    Col("n_events", "events", numeric=True), Col("n_patients", "patients", numeric=True),
    Col("infusion_related", "infusion-related", lambda r: esc({True: "yes", False: "no", None: "not stated"}[r["infusion_related"]])),
    Col("infusion_related_basis", "basis"), Col("n_serious", "serious", numeric=True), Col("onset_days", "onset day(s)"),
]


def _verdict(agrees: Any) -> str:
    if agrees is False:
        return '<span class="verdict bad">✘ contradicted</span>'
    if agrees is True:
        return '<span class="verdict ok">✔ agrees</span>'
    return '<span class="verdict open">? undetermined</span>'


def _computed(row: Row) -> str:
    if row["computed_value"] is not None:
        return esc(fmt(row["computed_value"], 2))
    if row.get("computed_low") is not None:
        return esc(f"{fmt(row['computed_low'], 2)}–{fmt(row['computed_high'], 2)}")
    return "—"


def _agreement_class(row: Row) -> str:
    return {False: "bad", None: "open"}.get(row["agrees"], "")


def _figure_label(row: Row) -> str:
    variable = row["variable"] + (f" [{row['codes']}]" if row["codes"] else "") + (f", day {row['day']}" if row["day"] is not None else "")
    return f'{esc(row["label"] or row["variable"])}<br><span class="note">{esc(variable)}</span>'


CHECK_COLS = [
    Col("label", "reported figure (as printed; variable)", _figure_label, wide=True),
    Col("statistic", "statistic"),
    Col("reported", "reported", numeric=True),
    Col("computed_value", "from the rows", _computed, numeric=True),
    Col("agrees", "verdict", lambda r: _verdict(r["agrees"])),
    Col("locator", "where"),
    Col("note", "note", wide=True),
]

CONFLICT_COLS = [
    Col("variable", "variable"), Col("statistic", "statistic"),
    Col("value_a", "one place says", numeric=True), Col("locator_a", "where"),
    Col("value_b", "another says", numeric=True), Col("locator_b", "where"),
]

DISAGREEMENT_COLS = [
    Col("study_id", "study"), Col("kind", "kind"), Col("label", "label"), Col("variable", "variable"),
    Col("statistic", "statistic"), Col("reported", "reported", numeric=True),
    Col("computed_or_other", "rows / other place", numeric=True), Col("locator", "where"), Col("note", "note", wide=True),
]


def km_section(reg: Registry, studies: Sequence[str], *, pooled: bool, level_note: str) -> str:
    rows = km_rows(reg, studies, pooled=pooled)
    if not rows:
        return note(level_note)
    fig = plots.km_figure(rows)
    caption = ("Kaplan–Meier estimate (view <code>km_survival</code>) from day 0, with the pointwise 95 % log-log "
               "interval shaded; ticks mark days on which patients were censored (last day the rows show them alive).")
    if pooled:
        caption += " The dashed curve pools every patient row of every study, without stratifying by study."
    return figure(fig, caption, "Kaplan-Meier survival curve") + table(rows, KM_COLS, table_id="km-table")


def trajectory_section(reg: Registry, studies: Sequence[str], *, multi_study: bool) -> str:
    summary, patients = trajectory_rows(reg, studies)
    names = analytes(reg)
    parts = []
    # an analyte measured on one day only has no trajectory to draw: it goes in a table below
    by_days = {code: {r["day"] for r in summary if r["analyte"] == code} for code in {r["analyte"] for r in summary}}
    single = [r for r in summary if len(by_days[r["analyte"]]) == 1]
    for code in sorted(c for c, days in by_days.items() if len(days) > 1):
        rows = [r for r in summary if r["analyte"] == code]
        people = [r for r in patients if r["analyte"] == code]
        info = names.get(code, {"name": code, "canonical_unit": rows[0]["unit"]})
        fig = plots.trajectory_figure(rows, people, analyte=code, name=info["name"], unit=rows[0]["unit"],
                                      multi_study=multi_study)
        caption = (f"<b>{esc(info['name'])}</b> (<code>{esc(code)}</code>, {esc(rows[0]['unit'])}): median with the "
                   "interquartile range (bars; band between days) per day and measurement context, from "
                   "<code>measurement_trajectory</code>; grey lines join each patient's own values within one "
                   "context. Contexts are never pooled.")
        parts.append(f'<h3>{esc(info["name"])}</h3>' + figure(fig, caption, f"trajectory of {code}"))
    if single:
        parts.append("<h3>Measured on one day only</h3>" + note(
            "No trajectory to draw: median and quartiles from <code>measurement_trajectory</code>.") + table(
            single, [Col("study_id", "study"), Col("analyte", "analyte", lambda r: esc(names.get(r["analyte"], {}).get("name", r["analyte"]))),
                     Col("context", "context"), Col("day", "day", numeric=True), Col("n", "n", numeric=True),
                     Col("median", "median", numeric=True), Col("q1", "Q1", numeric=True), Col("q3", "Q3", numeric=True),
                     Col("unit", "unit")], table_id="single-day-table"))
    undated = _select(
        reg,
        f"SELECT study_id, analyte, context, sum(n_values) AS n_values FROM measurement_trajectory "
        f"WHERE {_where(studies)} AND day IS NULL GROUP BY study_id, analyte, context ORDER BY ALL",
    )
    if undated:
        parts.append("<h3>Values without a day</h3>" + note(
            "These values have no day in the paper, so they cannot be placed on a time axis "
            "(<code>measurement_trajectory</code> rows with day NULL):") + table(
            undated, [Col("study_id", "study"), Col("analyte", "analyte"), Col("context", "context"),
                      Col("n_values", "values", numeric=True)]))
    if not parts:
        return note("No measurements in the registry for these studies.")
    return "\n".join(parts)


def agreement_badges(rows: Sequence[Row]) -> str:
    bad = sum(r["agrees"] is False for r in rows)
    ok = sum(r["agrees"] is True for r in rows)
    undetermined = len(rows) - bad - ok
    return (f'<div class="badges"><span class="badge bad">{bad} contradicted by the rows</span>'
            f'<span class="badge ok">{ok} agree</span>'
            f'<span class="badge open">{undetermined} undetermined</span></div>')


# ---- the pages ----------------------------------------------------------------------------------------


def _nav(studies: Sequence[str], anchors: Sequence[tuple[str, str]]) -> str:
    links = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in anchors)
    study_links = " ".join(f'<a href="{esc(s)}.html">{esc(s)}</a>' for s in studies)
    return (f'<div><a href="{INDEX}">All studies</a>{links}</div>'
            f'<div class="studies">Studies: {study_links}</div>')


def _card(items: Sequence[tuple[str, str]]) -> str:
    return '<dl class="card">' + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items if v) + "</dl>"


def study_page(reg: Registry, study_id: str, studies: Sequence[str]) -> str:
    where = _where([study_id])
    study = _select(reg, f"SELECT * FROM studies WHERE {where}")[0]
    overview = _select(reg, f"SELECT * FROM study_overview WHERE {where}")[0]
    products = _select(reg, f"SELECT * FROM products WHERE {where} ORDER BY product_id")
    dose_facts = _select(reg, f"SELECT statement FROM study_facts WHERE {where} AND topic = 'dose' ORDER BY fact_id")
    documents = _select(reg, f"SELECT * FROM documents WHERE {where} ORDER BY document_id")
    quality = _select(reg, f"SELECT * FROM quality_summary WHERE {where}")
    traced = _select(reg, f"SELECT count(*) AS n_rows, count(DISTINCT source_id) AS n_sources FROM provenance WHERE {where}")[0]
    patient_level = study["level"] == "patient"

    product_text = "<br>".join(
        esc(", ".join(str(p[k]) for k in ("name", "tissue_source", "donor_type", "culture", "manufacturer") if p[k]))
        for p in products)
    dose = esc(overview["dose_summary"]) if overview["dose_summary"] else ""
    if dose_facts:
        dose += ("<br>" if dose else "") + '<span class="note">As stated: ' + esc(" · ".join(f["statement"] for f in dose_facts)) + "</span>"
    docs = "<br>".join(
        esc(d["citation"]) + (f' — <a href="https://doi.org/{esc(d["doi"])}">doi:{esc(d["doi"])}</a>' if d["doi"] else "")
        + (f" ({esc(d['licence'])})" if d["licence"] else "") for d in documents)
    level = "patient rows" if patient_level else "aggregate only (the paper's reported figures; no patient rows)"
    if study["secondary"]:
        level += f"; secondary: figures quoted in {esc(study['reported_in'])}" if study["reported_in"] else "; secondary"
    n_reported = overview["n_patients_reported"]
    patients = f"{overview['n_patients']} with rows" + (f"; {n_reported} reported by the paper" if n_reported is not None else "")
    q = quality[0] if quality else None
    card = _card([
        ("Study", esc(study_id)),
        ("Authors", esc(study["authors"])),
        ("Published", esc(" ".join(str(x) for x in (study["journal"], study["year"], study["citation"]) if x))),
        ("Design", esc(study["design"])),
        ("Registration", esc(study["registration"] or "none stated")),
        ("Condition", esc(study["condition"])),
        ("Country, setting", esc(", ".join(x for x in (study["country"], study["setting"]) if x))),
        ("Recruitment", esc(study["recruitment_period"])),
        ("Ethics approval", esc(study["ethics_approval"])),
        ("Product", product_text),
        ("Dose", dose),
        ("Day 0", esc(study["index_day"])),
        ("Follow-up", esc(f"{study['followup_days']} days" if study["followup_days"] is not None else "not stated")),
        ("Patients", esc(patients)),
        ("Level", level),
        ("Quality (JBI)", esc(q["summary"] or q["note"] or "not appraised") if q else ""),
        ("Provenance", docs + note(f"{traced['n_rows']} stored rows, each traced to one of {traced['n_sources']} places "
                                   "in the documents with its quote (view <code>provenance</code>).")),
        ("Curators' notes", esc(study["notes"])),
    ])

    one = reg.table_one(study_id)
    t1 = table(plots.as_dicts(one.columns, one.rows()), [
        Col("characteristic", "characteristic"), Col("level", "level"), Col("value", "value", numeric=True),
        Col("statistic", "statistic"), Col("note", "how it is counted", wide=True)], group="characteristic",
        table_id="table-one")

    aggregate_note = ("Aggregate-only study: no patient rows, so nothing can be recomputed here; "
                      "the paper's own figures are under <a href=\"#reported\">Reported vs computed</a>.")
    survival = _select(reg, f"SELECT * FROM survival_at_day WHERE {where} ORDER BY day")
    stays = _select(reg, f"SELECT * FROM stay_outcomes WHERE {where} ORDER BY stay")
    vent = _select(reg, f"SELECT * FROM ventilation_outcomes WHERE {where}")
    pooled = _select(reg, f"SELECT * FROM pooled_outcomes WHERE {where} ORDER BY outcome LIKE 'extubation%', horizon_day NULLS LAST")
    outcomes = ("<h3>Survival on day N (<code>survival_at_day</code>)</h3>"
                + (table(survival, SURVIVAL_COLS, table_id="survival-table") if patient_level else note(aggregate_note))
                + "<h3>Stays (<code>stay_outcomes</code>)</h3>"
                + table(stays, STAY_COLS, empty="No stays stated.")
                + "<h3>Ventilation (<code>ventilation_outcomes</code>)</h3>"
                + table(vent, VENT_COLS, empty="No ventilation data.")
                + "<h3>Binary outcomes with 95 % intervals (<code>pooled_outcomes</code>, this study's rows)</h3>"
                + note("Wilson score intervals; <i>count from</i> says whether the count comes from the patient rows "
                       "or from the paper's own figure.")
                + table(pooled, POOLED_COLS, empty="No binary outcome can be counted for this study.", table_id="pooled-table"))

    km = km_section(reg, [study_id], pooled=False,
                    level_note=aggregate_note if not patient_level else "No survival times in the rows.")
    trajectories = trajectory_section(reg, [study_id], multi_study=False) if patient_level else note(aggregate_note)
    ae = table(_select(reg, f"SELECT * FROM adverse_event_summary WHERE {where} ORDER BY n_patients DESC, term"), AE_COLS,
               empty="No adverse events recorded for this study.", table_id="ae-table")

    check = reg.query("reported_check", study=study_id)
    # contradicted figures first, then the ones the rows cannot settle (paper order within each)
    checks = sorted(plots.as_dicts(check.columns, check.rows()), key=lambda r: {False: 0, None: 1, True: 2}[r["agrees"]])
    conflicts = _select(reg, f"SELECT * FROM reported_conflicts WHERE {where} ORDER BY variable, statistic")
    reported = (agreement_badges(checks)
                + note("Every figure the paper reports beside the same figure recomputed from its own rows "
                       "(<code>reported_vs_computed</code>). Red rows are contradicted by the rows; amber rows "
                       "the rows cannot settle (a range is shown).")
                + table(checks, CHECK_COLS, row_class=_agreement_class, empty="The paper's figures are not recorded.", table_id="reported-table")
                + "<h3>The paper against itself (<code>reported_conflicts</code>)</h3>"
                + table(conflicts, CONFLICT_COLS, row_class=lambda r: "bad", empty="No figure is reported twice with different values."))

    sections = [
        ("card", "Study card", card),
        ("table1", "Table 1, recomputed from the rows", t1),
        ("outcomes", "Outcomes", outcomes),
        ("km", "Kaplan–Meier survival", km),
        ("trajectories", "Biomarker trajectories", trajectories),
        ("adverse", "Adverse events", ae),
        ("reported", "Reported vs computed", reported),
    ]
    body = "\n".join(section(a, t, c) for a, t, c in sections)
    subtitle = esc(study["title"] or study_id)
    return page(title=f"{study_id} — caseregistry report", heading=esc(study_id), subheading=subtitle,
                nav=_nav(studies, [(a, t) for a, t, _ in sections]), body=body, registry=reg.path)


def index_page(reg: Registry, studies: Sequence[str]) -> str:
    where = _where(studies)
    overview = _select(reg, f"SELECT * FROM study_overview WHERE {where} ORDER BY level DESC, study_id")
    overview_table = table(overview, [
        Col("study_id", "study", lambda r: f'<a href="{esc(r["study_id"])}.html">{esc(r["study_id"])}</a>'),
        Col("year", "year", numeric=True), Col("level", "level"),
        Col("secondary", "secondary"), Col("n_patients", "patient rows", numeric=True),
        Col("n_patients_reported", "patients reported", numeric=True),
        Col("n_female", "female", numeric=True), Col("age_median", "age, median", numeric=True),
        Col("n_mechanical_ventilation", "ventilated", numeric=True), Col("n_icu", "ICU", numeric=True),
        Col("n_deaths", "deaths in rows", numeric=True), Col("followup_days", "follow-up, days", numeric=True),
        Col("dose_summary", "dose"),
    ])
    products = [r for r in plots.as_dicts(*_query(reg, "studies_by_product")) if r["study_id"] in studies]
    product_table = table(products, [
        Col("tissue_source", "tissue source"), Col("donor_type", "donor"), Col("culture", "culture"),
        Col("product", "product"), Col("study_id", "study"), Col("n_patients_reported", "patients reported", numeric=True),
        Col("dose_summary", "dose")])
    quality = _select(reg, f"SELECT * FROM quality_summary WHERE {where} ORDER BY study_id")
    quality_table = table(quality, [
        Col("study_id", "study"), Col("summary", "JBI appraisal", lambda r: esc(r["summary"] or r["note"] or "—")),
        Col("items_no", "items no"), Col("items_unclear", "items unclear")])

    survival = _select(reg, f"SELECT * FROM survival_at_day WHERE {where} ORDER BY study_id, day")
    pooled = _select(reg, f"SELECT * FROM pooled_outcomes WHERE {where} OR study_id IS NULL "
                          "ORDER BY outcome LIKE 'extubation%', horizon_day NULLS LAST, study_id NULLS LAST, includes_secondary")
    forests = []
    for outcome in ("death by end of follow-up", "extubation by end of follow-up (ventilated patients)"):
        if any(r["outcome"] == outcome and r["estimate"] is not None for r in pooled):
            forests.append(figure(plots.forest_figure(pooled, outcome),
                                  f"{esc(outcome[0].upper() + outcome[1:])}: each study's proportion with its Wilson 95 % interval "
                                  "(grey: secondary, figures quoted by another paper) and the random-effects pooled "
                                  "estimates (diamonds; Freeman–Tukey double arcsine, DerSimonian–Laird), from "
                                  "<code>pooled_outcomes</code>.", f"forest plot: {outcome}"))
    outcomes = ("<h3>Pooled binary outcomes (<code>pooled_outcomes</code>)</h3>" + "".join(forests)
                + note("Pooled rows pool every study in the registry that has a count at the horizon.")
                + table(pooled, POOLED_COLS, row_class=lambda r: "pooled" if r["study_id"] is None else "", group="outcome",
                        table_id="pooled-table")
                + "<h3>Survival on day N (<code>survival_at_day</code>)</h3>" + table(survival, SURVIVAL_COLS)
                + "<h3>Stays (<code>stay_outcomes</code>)</h3>"
                + table(_select(reg, f"SELECT * FROM stay_outcomes WHERE {where} ORDER BY study_id, stay"), STAY_COLS)
                + "<h3>Ventilation (<code>ventilation_outcomes</code>)</h3>"
                + table(_select(reg, f"SELECT * FROM ventilation_outcomes WHERE {where} ORDER BY study_id"), VENT_COLS))

    patient_level = [r["study_id"] for r in overview if r["level"] == "patient"]
    km = km_section(reg, patient_level, pooled=len(patient_level) > 1,
                    level_note="None of these studies has patient rows, so there is no survival curve.")
    trajectories = trajectory_section(reg, patient_level, multi_study=True) if patient_level else note(
        "None of these studies has patient rows.")
    ae = table(_select(reg, f"SELECT * FROM adverse_event_summary WHERE {where} ORDER BY study_id, n_patients DESC, term"),
               AE_COLS, empty="No adverse events recorded.")
    disagreements = [r for r in plots.as_dicts(*_query(reg, "disagreements")) if r["study_id"] in studies]
    reported = (f'<div class="badges"><span class="badge bad">{len(disagreements)} disagreements</span></div>'
                + note("Figures a paper reports that its own rows contradict, and figures one paper gives differently "
                       "in two places (named query <code>disagreements</code>). Each study's page lists every "
                       "reported figure with its verdict.")
                + table(disagreements, DISAGREEMENT_COLS, row_class=lambda r: "bad", empty="No disagreements.",
                        table_id="disagreements-table"))

    sections = [
        ("studies", "Studies", overview_table + "<h3>By cell product (<code>studies_by_product</code>)</h3>" + product_table
         + "<h3>Study quality (<code>quality_summary</code>)</h3>" + quality_table),
        ("outcomes", "Outcomes across studies", outcomes),
        ("km", "Kaplan–Meier survival", km),
        ("trajectories", "Biomarker trajectories", trajectories),
        ("adverse", "Adverse events", ae),
        ("reported", "Where the papers disagree with themselves", reported),
    ]
    body = "\n".join(section(a, t, c) for a, t, c in sections)
    n_patients = sum(r["n_patients"] for r in overview)
    subtitle = esc(f"{len(studies)} studies, {n_patients} patients with rows "
                   f"({len(patient_level)} patient-level, {len(studies) - len(patient_level)} aggregate-only)")
    return page(title="All studies — caseregistry report", heading="All studies", subheading=subtitle,
                nav=_nav(studies, [(a, t) for a, t, _ in sections]), body=body, registry=reg.path)


def _query(reg: Registry, name: str, **params: Any) -> tuple[list[str], list[tuple]]:
    result = reg.query(name, **params)
    return result.columns, result.rows()


def write_reports(reg: Registry, studies: Iterable[str], out: str | os.PathLike[str]) -> list[Path]:
    """Write OUT/STUDY_ID.html for each study (every study when none is named) and OUT/index.html
    across them. Each file is written under a temporary name and renamed when complete."""
    chosen = check_studies(reg, studies)
    out = Path(out)
    pages = [(f"{s}.html", lambda s=s: study_page(reg, s, chosen)) for s in chosen]
    pages.append((INDEX, lambda: index_page(reg, chosen)))
    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, render in pages:
            target = out / name
            partial = out / f".{name}.partial"
            partial.write_text(render(), encoding="utf-8")
            os.replace(partial, target)
            written.append(target)
    except OSError as error:
        raise RegistryError(f"cannot write the report to {out}: {error.strerror or error}") from None
    return written


# ---- single figures (`registry plot`) ---------------------------------------------------------------


def plot_km(reg: Registry, studies: Iterable[str], out: Path, *, pooled: bool = False) -> Path:
    chosen = check_studies(reg, studies)
    plots.figure_format(out)
    rows = km_rows(reg, chosen, pooled=pooled)
    if not rows:
        raise UnknownName(f"no Kaplan-Meier rows for {', '.join(chosen)}: aggregate-only studies have no patient rows")
    return plots.save(plots.km_figure(rows), out)


def plot_trajectory(reg: Registry, analyte: str, studies: Iterable[str], out: Path) -> Path:
    chosen = check_studies(reg, studies)
    plots.figure_format(out)
    known = analytes(reg)
    if analyte not in known:
        raise UnknownName(_unknown("analyte", analyte, known).replace("`registry list`", '`registry sql "FROM analytes"`'))
    summary, patients = trajectory_rows(reg, chosen, analyte)
    if not summary:
        measured = sorted({r["analyte"] for r in trajectory_rows(reg, chosen)[0]})
        listed = ", ".join(measured) or "none"
        raise UnknownName(f"no {analyte} values with a day in {', '.join(chosen)} (analytes with dated values: {listed})")
    info = known[analyte]
    fig = plots.trajectory_figure(summary, patients, analyte=analyte, name=info["name"], unit=summary[0]["unit"],
                                  multi_study=len({r["study_id"] for r in summary}) > 1)
    return plots.save(fig, out)
