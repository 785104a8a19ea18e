"""`registry report` and `registry plot` on the bundled registry, and the report in a real browser.

Expected values are the papers' and the views' (README "A tour" and tests/test_km_survival.py):
  Perez 2023: 9 patients; ages 58 61 61 65 69 73 75 75 83 -> "69 (58–83)"; 4 of 9 female -> "4 (44.4)";
    Table 1 prints the median age as 68.8 where the rows give 69 (contradicted).
  Iglesias 2021: 5 patients, 2 deaths -> "2 (40.0)"; patient 5 dies on day 13 (S = 4/5 = 0.8),
    patient 4 on day 15 (S = 0.8 x 3/4 = 0.6), the 3 survivors censored on day 21.
  Mesoblast 2020 (aggregate only): 2 deaths of 12 ("83 %" survival), Wilson 95 % CI 4.7–44.8 %.
"""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import Browser
from conftest import run
from PIL import Image

from registry import plots
from registry.report import fmt, km_rows

STUDIES = ["perez-2023", "iglesias-2021", "mesoblast-2020"]


class Tables(HTMLParser):
    """Every <table id=...> of a page as a list of rows of (cell text, row class)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[list[str], str]]] = {}
        self.images: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._row_class = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row, self._row_class = [], attrs.get("class") or ""
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs.get("src") or "")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append((self._row, self._row_class))
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Tables:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def body(parser: Tables, table_id: str) -> list[list[str]]:
    """The table's rows without its header row."""
    return [cells for cells, _ in parser.tables[table_id][1:]]


@pytest.fixture(scope="module")
def reports(bundled_registry, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = run("report", *STUDIES, "--out", str(out), db=bundled_registry.path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / f"{s}.html") for s in STUDIES] + [str(out / "index.html")]
    return out


def test_report_files_are_self_contained(reports):
    for name in [*STUDIES, "index"]:
        text = (reports / f"{name}.html").read_text(encoding="utf-8")
        assert "<script" not in text and "<link" not in text and "@import" not in text
        assert "url(" not in text  # no CSS resource of any kind
        for src in parse(reports / f"{name}.html").images:
            assert src.startswith("data:image/svg+xml;base64,"), src[:60]
    assert not list(reports.glob(".*.partial"))


def test_perez_page_holds_its_table_one_and_disagreements(bundled_registry, reports):
    page = parse(reports / "perez-2023.html")
    table_one = {(cells[0], cells[1]): cells[2] for cells in body(page, "table-one") if cells[0]}
    assert table_one[("Patients", "—")] == "9"
    assert table_one[("Age, years", "—")] == "69 (58–83)"
    assert table_one[("Female sex", "—")] == "4 (44.4)"
    assert table_one[("Hospital stay, days", "—")] == "11 (6–26)"
    # every reported figure is listed, the contradicted ones first and in red
    reported = page.tables["reported-table"][1:]
    expected = bundled_registry.sql(
        "SELECT count(*) FILTER (WHERE agrees = false), count(*) FROM reported_vs_computed WHERE study_id = 'perez-2023'"
    ).rows()[0]
    assert len(reported) == expected[1]
    bad = [cells for cells, cls in reported if cls == "bad"]
    assert len(bad) == expected[0] and all("contradicted" in cells[4] for cells in bad)
    assert reported[: len(bad)] == [(cells, "bad") for cells in bad]
    # cells: label and variable, statistic, reported, from the rows, verdict, ...
    median_age = [c for c in bad if c[0] == "Median age – years (range)age_years" and c[1] == "median"]
    assert len(median_age) == 1 and median_age[0][2:4] == ["68.8", "69"]
    assert f"{expected[0]} contradicted by the rows" in (reports / "perez-2023.html").read_text()


def test_iglesias_km_table_and_curve_match_km_survival(bundled_registry, reports):
    page = parse(reports / "iglesias-2021.html")
    view = km_rows(bundled_registry, ["iglesias-2021"])
    keys = ["day", "n_at_risk", "n_events", "n_censored", "survival", "ci_low", "ci_high"]
    assert body(page, "km-table") == [["iglesias-2021"] + [fmt(r[k]) for k in keys] for r in view]
    assert [(r["day"], r["survival"]) for r in view] == [(13, 0.8), (15, pytest.approx(0.6)), (21, pytest.approx(0.6))]
    table_one = {(cells[0], cells[1]): cells[2] for cells in body(page, "table-one") if cells[0]}
    assert table_one[("Deaths", "—")] == "2 (40.0)"
    assert table_one[("Patients", "—")] == "5"
    ae = {cells[1]: cells for cells in body(page, "ae-table")}
    assert ae["hypoxemia"][4] == "2" and ae["hypoxemia"][5] == "yes"
    # the drawn curve: day 0 at 1, then each view row's survival and interval, unchanged
    fig = plots.km_figure(view)
    line = fig.axes[0].lines[0]
    assert list(line.get_xdata()) == [0, 13, 15, 21]
    assert list(line.get_ydata()) == [1.0] + [r["survival"] for r in view]
    (curve,) = plots.km_curves(view)
    assert curve.ci_low == [1.0] + [r["ci_low"] for r in view]
    assert curve.ci_high == [1.0] + [r["ci_high"] for r in view]
    assert curve.censored_days == [21]


def test_aggregate_only_study_page(reports):
    text = (reports / "mesoblast-2020.html").read_text(encoding="utf-8")
    page = parse(reports / "mesoblast-2020.html")
    assert "Aggregate-only study: no patient rows" in text
    assert page.images == []  # no curve or trajectory to draw
    assert body(page, "table-one") == [["Patients", "—", "0", "n",
                                        "aggregate-only study: no patient rows; the paper's own figures are in reported_aggregates"]]
    deaths = [c for c in body(page, "pooled-table") if c[0] == "death by end of follow-up"]
    assert deaths == [["death by end of follow-up", "mesoblast-2020", "1", "2", "12", "16.7 % (4.7–44.8 %)", "—",
                       "reported percent", "—"]]
    assert "the authors reported 83% survival" in text


def test_index_page_lists_every_disagreement(bundled_registry, reports):
    page = parse(reports / "index.html")
    view = bundled_registry.query("disagreements").rows()
    expected = [r for r in view if r[0] in STUDIES]
    rows = page.tables["disagreements-table"][1:]
    assert len(rows) == len(expected) and all(cls == "bad" for _, cls in rows)
    assert ["perez-2023", "reported vs rows", "Median age – years (range)", "age_years", "median", "68.8", "69.0"] in [
        cells[:7] for cells, _ in rows]
    overview = {cells[0]: cells for cells in body(page, "table0")}
    assert overview["perez-2023"][4] == "9" and overview["iglesias-2021"][10] == "2"
    assert len(page.images) >= 3  # forest plots and the Kaplan-Meier curve at least


# ---- registry plot -----------------------------------------------------------------------------------


def test_empty_registry_has_nothing_to_report(empty_registry, tmp_path):
    result = run("report", "--out", str(tmp_path / "r"), db=empty_registry.path)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {empty_registry.path} holds no studies yet: import one first (`registry import PACKAGE`)\n"
    assert not (tmp_path / "r").exists()


def test_plot_km_and_trajectory_write_the_asked_format(bundled_registry, tmp_path):
    png, svg = tmp_path / "km.png", tmp_path / "rr.svg"
    result = run("plot", "km", "iglesias-2021", "perez-2023", "--pooled", "--out", str(png), db=bundled_registry.path)
    assert result.exit_code == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as image:
        assert image.size == (1125, 630)  # 7.5 x 4.2 in at 150 dpi
    result = run("plot", "trajectory", "resp_rate", "perez-2023", "--out", str(svg), db=bundled_registry.path)
    assert result.exit_code == 0, result.stderr
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["plot", "kn"], 2, "No such plot 'kn'. Did you mean 'km'? Plots: km, trajectory."),
        (["plot", "km", "--out", "k.gif"], 2, "unknown image format '.gif' (use .png, .svg or .pdf)"),
        (["plot", "km", "mesoblast-2020", "--out", "k.png"], 1,
         "Error: no Kaplan-Meier rows for mesoblast-2020: aggregate-only studies have no patient rows"),
        (["plot", "trajectory", "spo3", "--out", "t.png"], 1,
         "Error: no analyte named 'spo3'; did you mean spo2?"),
        (["plot", "trajectory", "creatinine", "iglesias-2021", "--out", "t.png"], 1,
         "Error: no creatinine values with a day in iglesias-2021 (analytes with dated values: d_dimer, hemoglobin)"),
        (["report", "perez", "--out", "r"], 1, "Error: no study named 'perez'; did you mean perez-2023?"),
        (["plot", "km", "--out", "no-such-folder/km.png"], 1, "Error: cannot write no-such-folder/km.png: No such file or directory"),
    ],
)
def test_plot_and_report_refuse_bad_input(bundled_registry, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args, db=bundled_registry.path)
    assert result.exit_code == code
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


# ---- the report in headless Chromium -------------------------------------------------------------------


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        message = "chromium is not installed (make setup installs Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="module")
def browser():
    instance = Browser(chromium_binary())
    yield instance
    instance.close()


def distinct_colours(path: Path) -> tuple[int, float]:
    """(distinct colours, share of pixels that are not white) of a PNG."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24)
        white = sum(count for count, colour in colours if colour == (255, 255, 255))
        return len(colours), 1 - white / (rgb.width * rgb.height)


@pytest.mark.parametrize("name", ["perez-2023", "index", "mesoblast-2020"])
def test_report_renders_in_chromium_without_console_errors(browser, reports, tmp_path, name):
    browser.open((reports / f"{name}.html").as_uri())
    assert browser.problems() == []
    # every embedded figure decoded into a real image
    assert browser.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 300)") is True
    assert browser.evaluate("document.title").endswith("caseregistry report")
    shot = browser.screenshot(tmp_path / f"{name}.png")
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
    colours, inked = distinct_colours(shot)
    assert colours > 100 and inked > 0.10, (colours, inked)


def test_browser_check_catches_a_broken_page(browser, tmp_path):
    """The check above can fail: a missing image, a console error and an exception are all caught,
    and a blank page is blank."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><title>x</title></head><body><img src="missing.png">'
                    '<script>console.error("bad"); undefinedFunction();</script></body></html>')
    browser.open(page.as_uri())
    problems = browser.problems()
    assert any(p.startswith("console.error: bad") for p in problems)
    assert any("undefinedFunction" in p for p in problems)
    assert any("missing.png" in p for p in problems)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><head><title>x</title></head><body></body></html>")
    browser.open(blank.as_uri())
    assert distinct_colours(browser.screenshot(tmp_path / "blank.png")) == (1, 0.0)
