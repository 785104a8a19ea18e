"""pooled_outcomes: per-study proportions with Wilson intervals, pooled by Freeman-Tukey + DerSimonian-Laird.

z = 1.959963984540054. Wilson: (p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
Freeman-Tukey: t = asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1))), v = 1/(n + 1/2), w = 1/v.
DerSimonian-Laird: Q = sum w (t - t_FE)^2, tau2 = max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w)).
Miller back-transform at the harmonic mean n' of the n:
p = (1 - sgn(cos t) sqrt(1 - (sin t + (sin t - 1/sin t)/n')^2)) / 2, clamped to 0 / 1 outside
[asin(sqrt(1/(n'+1))), asin(sqrt(n'/(n'+1))) + pi/2].

The hand-made registry (five small packages written below):
  pooled-a  patient-level, primary, follow-up 28 days. a1 intubated day -1, extubated day 5, known
            alive day 28; a2 intubated day -1, died day 10 (no extubation); a3 died day 20; a4 known
            alive day 28.
  pooled-b  patient-level, primary, follow-up 30. b1 died day 12; b2 known alive day 30; b3, b4, b5
            discharged alive day 5 (status after day 5 unknown). Reports n 5, alive 3 on day 28,
            alive 4 on day 30, and 2 deaths (no day: end of follow-up).
  pooled-c  aggregate-only, secondary. Reports n 10, 0 deaths (end of follow-up), 90 % alive on day 28.
  pooled-d  aggregate-only, primary. Reports n 8, 0 deaths on day 7, alive 6 on day 28,
            ventilated 4, extubated 3.
  pooled-e  aggregate-only, secondary. Reports 3 deaths on day 14 but no n.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

from conftest import rows
from registry import Registry

Z = 1.959963984540054
EOF_DEATH = "death by end of follow-up"
EOF_EXTUBATION = "extubation by end of follow-up (ventilated patients)"


def write_package(
    root: Path,
    study_id: str,
    *,
    followup_days: int | None = None,
    secondary: bool = False,
    patients: tuple[str, ...] = (),
    events: tuple[tuple, ...] = (),
    reported: tuple[tuple, ...] = (),
) -> Path:
    """A minimal package: patient-level when patients are given, else aggregate-only.
    events: (patient_id, event, day); reported: (reported_id, variable, day, statistic, value)."""
    path = root / study_id
    path.mkdir()
    level = "patient" if patients else "aggregate"
    (path / "study.yaml").write_text(
        f"study_id: {study_id}\ntitle: Hand-made series {study_id}\nlevel: {level}\n"
        f"secondary: {'true' if secondary else 'false'}\n"
        + (f"followup_days: {followup_days}\n" if followup_days is not None else "")
        + ("reported_in: pooled-a\n" if secondary else "")
        + "source_id: s1\ndocuments:\n  - document_id: paper\n    kind: article\n    citation: Hand-made test series\n"
    )
    (path / "sources.csv").write_text("source_id,document_id,locator,quote,note\ns1,paper,Table 1,hand-made,\n")
    if patients:
        (path / "patients.csv").write_text(
            "patient_id,arm_id,sex,age_years,weight_kg,severity,care_setting,source_id\n"
            + "".join(f"{p},,,,,,,s1\n" for p in patients)
        )
        (path / "events.csv").write_text(
            "patient_id,event,day,day_min,day_max,detail,source_id\n"
            + "".join(f"{p},{e},{d},,,,s1\n" for p, e, d in events)
        )
    (path / "reported_aggregates.csv").write_text(
        "reported_id,variable,codes,day,statistic,value,unit,population,label,note,source_id\n"
        + "".join(
            f"{r},{var},,{'' if day is None else day},{stat},{value},,all,{var},,s1\n"
            for r, var, day, stat, value in reported
        )
    )
    return path


@pytest.fixture(scope="module")
def pooled_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("pooled")
    packages = [
        write_package(
            root,
            "pooled-a",
            followup_days=28,
            patients=("a1", "a2", "a3", "a4"),
            events=(
                ("a1", "intubation", -1),
                ("a1", "extubation", 5),
                ("a1", "known_alive", 28),
                ("a2", "intubation", -1),
                ("a2", "death", 10),
                ("a3", "death", 20),
                ("a4", "known_alive", 28),
            ),
        ),
        write_package(
            root,
            "pooled-b",
            followup_days=30,
            patients=("b1", "b2", "b3", "b4", "b5"),
            events=(
                ("b1", "death", 12),
                ("b2", "known_alive", 30),
                ("b3", "hospital_discharge", 5),
                ("b4", "hospital_discharge", 5),
                ("b5", "hospital_discharge", 5),
            ),
            reported=(
                ("n", "n_patients", None, "n", 5),
                ("alive28", "alive", 28, "n", 3),
                ("alive30", "alive", 30, "n", 4),
                ("deaths", "deaths", None, "n", 2),
            ),
        ),
        write_package(
            root,
            "pooled-c",
            secondary=True,
            reported=(
                ("n", "n_patients", None, "n", 10),
                ("deaths", "deaths", None, "n", 0),
                ("alive28", "alive", 28, "percent", 90),
            ),
        ),
        write_package(
            root,
            "pooled-d",
            reported=(
                ("n", "n_patients", None, "n", 8),
                ("deaths7", "deaths", 7, "n", 0),
                ("alive28", "alive", 28, "n", 6),
                ("ventilated", "ventilated", None, "n", 4),
                ("extubated", "extubated", None, "n", 3),
            ),
        ),
        write_package(root, "pooled-e", secondary=True, reported=(("deaths14", "deaths", 14, "n", 3),)),
    ]
    registry, _ = Registry.create(root / "pooled.duckdb", packages=packages)
    return registry


COLUMNS = (
    "outcome, study_id, n_studies, n_patients, n_events, estimate, ci_low, ci_high, method, i2, count_source,"
    " horizon_day, secondary, aggregate_only, includes_secondary, n_secondary_studies, tau2, n_status_unknown"
)
NAMES = [c.strip() for c in COLUMNS.split(",")]


def table(registry: Registry) -> list[dict]:
    """Every row of pooled_outcomes as a dict (one query per registry keeps the file fast)."""
    return [dict(zip(NAMES, r)) for r in rows(registry, f"SELECT {COLUMNS} FROM pooled_outcomes")]


@pytest.fixture(scope="module")
def pooled_table(pooled_registry) -> list[dict]:
    return table(pooled_registry)


@pytest.fixture(scope="module")
def bundled_table(bundled_registry) -> list[dict]:
    return table(bundled_registry)


def study_rows(got: list[dict]) -> dict[tuple[str, str], tuple]:
    """(outcome, study_id) -> (n_patients, n_events, count_source, n_status_unknown)."""
    return {
        (r["outcome"], r["study_id"]): (r["n_patients"], r["n_events"], r["count_source"], r["n_status_unknown"])
        for r in got
        if r["study_id"] is not None
    }


def pooled_row(got: list[dict], outcome: str, includes_secondary: bool) -> dict:
    found = [
        r for r in got if r["study_id"] is None and r["outcome"] == outcome and r["includes_secondary"] is includes_secondary
    ]
    assert len(found) == 1, found
    return found[0]


# -- an implementation independent of the SQL ------------------------------------------------------


def freeman_tukey_dl(studies: list[tuple[int, int]]) -> dict:
    """Freeman-Tukey double arcsine, DerSimonian-Laird tau2, Miller back-transform; (x, n) pairs."""
    t = np.array([math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))) for x, n in studies])
    v = np.array([1 / (n + 0.5) for _, n in studies])
    w = 1 / v
    k = len(studies)
    t_fe = float(np.sum(w * t) / np.sum(w))
    q = float(np.sum(w * (t - t_fe) ** 2))
    tau2 = max(0.0, (q - (k - 1)) / float(np.sum(w) - np.sum(w**2) / np.sum(w)))
    w_re = 1 / (v + tau2)
    t_re = float(np.sum(w_re * t) / np.sum(w_re))
    se = math.sqrt(1 / float(np.sum(w_re)))
    n_h = k / sum(1 / n for _, n in studies)

    def back(tt: float) -> float:
        if tt <= math.asin(math.sqrt(1 / (n_h + 1))):
            return 0.0
        if tt >= math.asin(math.sqrt(n_h / (n_h + 1))) + math.pi / 2:
            return 1.0
        s = math.sin(tt)
        return 0.5 * (1 - math.copysign(1, math.cos(tt)) * math.sqrt(1 - (s + (s - 1 / s) / n_h) ** 2))

    return {
        "t": t,
        "v": v,
        "q": q,
        "tau2": tau2,
        "t_re": t_re,
        "estimate": back(t_re),
        "ci_low": back(t_re - Z * se),
        "ci_high": back(t_re + Z * se),
        "i2": 100 * (q - (k - 1)) / q if q > k - 1 else 0.0,
    }


# -- per-study counts ------------------------------------------------------------------------------


def test_counts_and_their_source(pooled_table):
    """Per study and horizon: (n, events, count_source, patients of unknown status).
    pooled-a: every status known through day 28 -> from the rows: day 7 0/4 (a2 dies on 10),
      day 14 1/4, day 21 2/4, day 28 2/4; end of follow-up (day 28) 2/4; day 30: a1 and a4 are last
      seen on 28 -> 2 unknown, no reported figure -> no count. Extubation: ventilated a1 (extubated)
      and a2 (died without extubation: no) -> 1/2.
    pooled-b: b3-b5 unknown after day 5 -> the rows place no horizon; reported alive 3 on day 28 ->
      5 - 3 = 2; alive 4 on day 30 -> 1; end of follow-up: deaths 2 (a figure without a day comes
      before the day-30 figure on the last day of follow-up, which would say 1); days 7, 14, 21:
      no figure -> no count. No ventilated patient: no extubation row.
    pooled-c: end of follow-up 0 deaths of 10 (reported); day 28: 90 % of 10 alive -> 10 - 9 = 1
      (reported percent).
    pooled-d: day 7 0/8, day 28 8 - 6 = 2 of 8; extubated 3 of 4 ventilated (reported).
    pooled-e: 3 deaths on day 14 without an n -> no count, no denominator."""
    got = study_rows(pooled_table)
    assert got == {
        ("death by day 7", "pooled-a"): (4, 0, "patient rows", 0),
        ("death by day 14", "pooled-a"): (4, 1, "patient rows", 0),
        ("death by day 21", "pooled-a"): (4, 2, "patient rows", 0),
        ("death by day 28", "pooled-a"): (4, 2, "patient rows", 0),
        ("death by day 30", "pooled-a"): (4, None, None, 2),
        (EOF_DEATH, "pooled-a"): (4, 2, "patient rows", 0),
        (EOF_EXTUBATION, "pooled-a"): (2, 1, "patient rows", 0),
        ("death by day 7", "pooled-b"): (5, None, None, 3),
        ("death by day 14", "pooled-b"): (5, None, None, 3),
        ("death by day 21", "pooled-b"): (5, None, None, 3),
        ("death by day 28", "pooled-b"): (5, 2, "reported", 3),
        ("death by day 30", "pooled-b"): (5, 1, "reported", 3),
        (EOF_DEATH, "pooled-b"): (5, 2, "reported", 3),
        (EOF_DEATH, "pooled-c"): (10, 0, "reported", None),
        ("death by day 28", "pooled-c"): (10, 1, "reported percent", None),
        ("death by day 7", "pooled-d"): (8, 0, "reported", None),
        ("death by day 28", "pooled-d"): (8, 2, "reported", None),
        (EOF_EXTUBATION, "pooled-d"): (4, 3, "reported", None),
        ("death by day 14", "pooled-e"): (None, None, None, None),
    }


def test_flags_on_study_rows(pooled_table):
    """secondary and aggregate_only come from studies; includes_secondary repeats secondary on a study row."""
    got = {
        (r["study_id"], r["secondary"], r["aggregate_only"], r["includes_secondary"], r["n_studies"])
        for r in pooled_table
        if r["study_id"] is not None
    }
    assert got == {
        ("pooled-a", False, False, False, 1),
        ("pooled-b", False, False, False, 1),
        ("pooled-c", True, True, True, 1),
        ("pooled-d", False, True, False, 1),
        ("pooled-e", True, True, True, 1),
    }


def test_wilson_by_hand(pooled_table):
    """pooled-b, death by day 28, 2 of 5: p = 0.4, z^2 = 3.841459, z^2/n = 0.768292;
    centre = (0.4 + 0.384146) / 1.768292 = 0.443448;
    half = 1.959964 * sqrt(0.24/5 + 3.841459/100) / 1.768292 = 1.959964 * 0.293964 / 1.768292 = 0.325827
    -> 0.117621 to 0.769276.
    pooled-c, end of follow-up, 0 of 10 (zero events): low 0, high = (z^2/n) / (1 + z^2/n)
    = 0.384146 / 1.384146 = 0.277533.
    pooled-a, death by day 28, 2 of 4: symmetric about 1/2: 0.150039 to 0.849961."""
    got = {
        (r["outcome"], r["study_id"]): (r["estimate"], r["ci_low"], r["ci_high"], r["method"])
        for r in pooled_table
        if r["study_id"] is not None
    }
    assert got[("death by day 28", "pooled-b")] == pytest.approx((0.4, 0.117621, 0.769276, "Wilson score interval"), abs=5e-7)
    assert got[(EOF_DEATH, "pooled-c")] == pytest.approx((0.0, 0.0, 0.277533, "Wilson score interval"), abs=5e-7)
    assert got[("death by day 28", "pooled-a")] == pytest.approx((0.5, 0.150039, 0.849961, "Wilson score interval"), abs=5e-7)
    assert got[("death by day 30", "pooled-a")] == (None, None, None, None)


def test_wilson_agrees_with_statsmodels(pooled_table, bundled_table):
    """Every study row with a count, in both registries, against proportion_confint(method='wilson')."""
    checked = 0
    for got in (pooled_table, bundled_table):
        for r in got:
            if r["study_id"] is None or r["n_events"] is None:
                continue
            n, x, p, low, high = r["n_patients"], r["n_events"], r["estimate"], r["ci_low"], r["ci_high"]
            ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="wilson")
            assert p == pytest.approx(x / n, abs=1e-15)
            assert low == pytest.approx(max(ref_low, 0.0), abs=1e-12)
            assert high == pytest.approx(min(ref_high, 1.0), abs=1e-12)
            checked += 1
    assert checked == 14 + 19


# -- pooled rows -----------------------------------------------------------------------------------


def test_only_like_horizons_are_pooled(pooled_table):
    """A pooled row needs at least 2 studies with a count at the same horizon:
    day 7: pooled-a 0/4, pooled-d 0/8 (both primary) -> both pools, 2 studies, 12 patients, 0 events.
    day 28: a 2/4, b 2/5, c 1/10 (secondary), d 2/8 -> all: 4 studies, 27 patients, 7 events;
            primary: 3 studies, 17 patients, 6 events.
    end of follow-up: a 2/4, b 2/5, c 0/10 (secondary) -> all: 3, 19, 4; primary: 2, 9, 4.
    extubation: a 1/2, d 3/4 -> 2 studies, 6 patients, 4 events.
    day 14 (only pooled-a has a count; pooled-e has none) and day 30 (pooled-b only): no pooled row."""
    keys = ("outcome", "includes_secondary", "n_studies", "n_patients", "n_events", "n_secondary_studies", "horizon_day", "method")
    got = sorted(tuple(r[k] for k in keys) for r in pooled_table if r["study_id"] is None)
    method = "random effects: Freeman-Tukey double arcsine, DerSimonian-Laird tau2, Miller back-transform (harmonic mean n)"
    assert got == [
        ("death by day 28", False, 3, 17, 6, 0, 28, method),
        ("death by day 28", True, 4, 27, 7, 1, 28, method),
        ("death by day 7", False, 2, 12, 0, 0, 7, method),
        ("death by day 7", True, 2, 12, 0, 0, 7, method),
        (EOF_DEATH, False, 2, 9, 4, 0, None, method),
        (EOF_DEATH, True, 3, 19, 4, 1, None, method),
        (EOF_EXTUBATION, False, 2, 6, 4, 0, None, method),
        (EOF_EXTUBATION, True, 2, 6, 4, 0, None, method),
    ]


def test_pooled_by_hand_primary_end_of_followup(pooled_table):
    """End of follow-up, primary studies: pooled-a 2/4 (rows), pooled-b 2/5 (reported).
    t_a = asin(sqrt(2/5)) + asin(sqrt(3/5)) = pi/2 = 1.570796 (the two angles are complementary);
    t_b = asin(sqrt(1/3)) + asin(sqrt(1/2)) = 0.615480 + 0.785398 = 1.400878.
    w = n + 1/2: 4.5 and 5.5, sum 10 -> t_FE = (4.5*1.570796 + 5.5*1.400878)/10 = 1.477341.
    Q = 4.5*0.093455^2 + 5.5*0.076463^2 = 0.039302 + 0.032157 = 0.071459 < k-1 = 1 -> tau2 = 0, I2 = 0.
    se = sqrt(1/10) = 0.316228; z se = 0.619795. Harmonic mean n' = 2/(1/4 + 1/5) = 4.444444.
    Estimate, t = 1.477341: sin t = 0.995636, 1/sin t = 1.004383, sin t + (sin t - 1/sin t)/n' = 0.993668,
      squared 0.987377, sqrt(1 - 0.987377) = 0.112354; cos t > 0 -> p = (1 - 0.112354)/2 = 0.443823.
    Low, t = 0.857546: sin 0.756239, 1/sin 1.322333, inner 0.628868, sqrt(1 - 0.395475) = 0.777512
      -> (1 - 0.777512)/2 = 0.111244.
    High, t = 2.097136 (> pi/2, so cos t < 0): sin 0.864652, 1/sin 1.156535, inner 0.798978,
      sqrt(1 - 0.638366) = 0.601361 -> (1 + 0.601361)/2 = 0.800680."""
    row = pooled_row(pooled_table, EOF_DEATH, False)
    assert (row["n_studies"], row["n_patients"], row["n_events"]) == (2, 9, 4)
    assert row["tau2"] == 0.0 and row["i2"] == 0.0
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((0.443823, 0.111244, 0.800680), abs=5e-7)


def test_pooled_with_heterogeneity_all_studies_end_of_followup(pooled_table):
    """End of follow-up with the secondary pooled-c (0/10) as well:
    t_c = asin(0) + asin(sqrt(1/11)) = 0.306277 (no continuity correction needed with 0 events);
    w = 4.5, 5.5, 10.5 (sum 20.5, sum w^2 = 160.75) -> t_FE = 0.877528;
    Q = 4.5*(1.570796 - 0.877528)^2 + 5.5*(1.400878 - 0.877528)^2 + 10.5*(0.306277 - 0.877528)^2
      = 2.162768 + 1.506479 + 3.426407 = 7.095654;
    C = 20.5 - 160.75/20.5 = 12.658537 -> tau2 = (7.095654 - 2)/12.658537 = 0.402547;
    I2 = (7.095654 - 2)/7.095654 = 71.8137 %.
    w* = 1/(v + tau2) = 1.600591, 1.711259, 2.008900 -> t_RE = 1.038716, se = 0.433524;
    n' = 3/(1/4 + 1/5 + 1/10) = 5.454545; back-transformed: 0.204722; the low bound
    t = 1.038716 - 0.849695 = 0.189021 lies below asin(sqrt(1/6.454545)) = 0.405113 -> 0;
    high 0.682303."""
    row = pooled_row(pooled_table, EOF_DEATH, True)
    assert (row["n_studies"], row["n_secondary_studies"]) == (3, 1)
    assert row["tau2"] == pytest.approx(0.402547, abs=5e-7)
    assert row["i2"] == pytest.approx(71.8137, abs=5e-5)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((0.204722, 0.0, 0.682303), abs=5e-7)
    # statsmodels' DerSimonian-Laird on the same transformed effects (its tau2 is not truncated at 0; here it is > 0)
    reference = freeman_tukey_dl([(2, 4), (2, 5), (0, 10)])
    sm = combine_effects(reference["t"], reference["v"], method_re="dl")
    assert sm.tau2 == pytest.approx(row["tau2"], rel=1e-10)
    assert sm.q == pytest.approx(7.095654, abs=5e-7)
    assert sm.mean_effect_re == pytest.approx(reference["t_re"], rel=1e-12)


def test_zero_event_pool(pooled_table):
    """Day 7: pooled-a 0/4 and pooled-d 0/8 (no events anywhere).
    t = asin(sqrt(1/5)) = 0.463648 and asin(sqrt(1/9)) = 0.339837; w = 4.5, 8.5 ->
    t_FE = (4.5*0.463648 + 8.5*0.339837)/13 = 0.382694; Q = 0.045103 < 1 -> tau2 = 0; se = sqrt(1/13) = 0.277350.
    n' = 2/(1/4 + 1/8) = 5.333333; the floor asin(sqrt(1/6.333333)) = 0.408638 is above t_RE, so the
    estimate and the low bound are 0. High: t = 0.382694 + 1.959964*0.277350 = 0.926291,
    sin t = 0.799397, inner = 0.799397 + (0.799397 - 1.250943)/5.333333 = 0.714732,
    sqrt(1 - 0.510842) = 0.699398 -> (1 - 0.699398)/2 = 0.150301."""
    for includes_secondary in (True, False):
        row = pooled_row(pooled_table, "death by day 7", includes_secondary)
        assert (row["n_events"], row["estimate"], row["ci_low"]) == (0, 0.0, 0.0)
        assert row["ci_high"] == pytest.approx(0.150301, abs=5e-7)
        assert row["tau2"] == 0.0 and row["i2"] == 0.0


STUDIES = {
    ("death by day 7", True): [(0, 4), (0, 8)],
    ("death by day 28", True): [(2, 4), (2, 5), (1, 10), (2, 8)],
    ("death by day 28", False): [(2, 4), (2, 5), (2, 8)],
    (EOF_DEATH, True): [(2, 4), (2, 5), (0, 10)],
    (EOF_DEATH, False): [(2, 4), (2, 5)],
    (EOF_EXTUBATION, True): [(1, 2), (3, 4)],
}


@pytest.mark.parametrize("outcome, includes_secondary", list(STUDIES), ids=[f"{o}-{s}" for o, s in STUDIES])
def test_pooled_agrees_with_independent_implementation(pooled_table, outcome, includes_secondary):
    reference = freeman_tukey_dl(STUDIES[(outcome, includes_secondary)])
    row = pooled_row(pooled_table, outcome, includes_secondary)
    for key in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
        assert row[key] == pytest.approx(reference[key], rel=1e-9, abs=1e-12), key


# -- the bundled registry ----------------------------------------------------------------------------


def test_bundled_counts_and_sources(bundled_table):
    """Iglesias: deaths on days 13 and 15, patients 1-3 known alive through day 21 (its follow-up)
    -> counted from the rows up to day 21 and at the end of follow-up (2/5); days 26-30 unknown for
    three survivors and not reported -> no count. Extubation: 1 and 2 extubated, 4 and 5 died
    ventilated -> 2/4.
    Perez: the rows place no death (discharged patients' later status unknown) -> its Table 1 /
    Results: alive 8 of 9 on days 7, 14, 21, 26 (its last day of follow-up, so also the end of
    follow-up) and 30 -> 1 death (reported); day 10 and 28 have no figure. Extubation: 002, 007 and
    009 were discharged with no extubation recorded (unknown), 006 still ventilated -> no count.
    Mesoblast: 83 % survival of 12 (no day) -> alive round(9.96) = 10 -> 2 deaths (reported percent);
    extubated 9 of 12 ventilated. Pluristem: 100 % 7-day survival of 7 -> 0 deaths; extubated 3 of 7.
    Leng: all 7 survived -> 0/7; Liang: 1 of 1 survived -> 0/1, extubated 1 of 1."""
    got = study_rows(bundled_table)
    assert got == {
        ("death by day 7", "iglesias-2021"): (5, 0, "patient rows", 0),
        ("death by day 10", "iglesias-2021"): (5, 0, "patient rows", 0),
        ("death by day 14", "iglesias-2021"): (5, 1, "patient rows", 0),
        ("death by day 21", "iglesias-2021"): (5, 2, "patient rows", 0),
        ("death by day 26", "iglesias-2021"): (5, None, None, 3),
        ("death by day 28", "iglesias-2021"): (5, None, None, 3),
        ("death by day 30", "iglesias-2021"): (5, None, None, 3),
        (EOF_DEATH, "iglesias-2021"): (5, 2, "patient rows", 0),
        (EOF_EXTUBATION, "iglesias-2021"): (4, 2, "patient rows", 0),
        ("death by day 7", "perez-2023"): (9, 1, "reported", 4),
        ("death by day 10", "perez-2023"): (9, None, None, 5),
        ("death by day 14", "perez-2023"): (9, 1, "reported", 5),
        ("death by day 21", "perez-2023"): (9, 1, "reported", 7),
        ("death by day 26", "perez-2023"): (9, 1, "reported", 9),
        ("death by day 28", "perez-2023"): (9, None, None, 9),
        ("death by day 30", "perez-2023"): (9, 1, "reported", 9),
        (EOF_DEATH, "perez-2023"): (9, 1, "reported", 9),
        (EOF_EXTUBATION, "perez-2023"): (4, None, None, 3),
        (EOF_DEATH, "mesoblast-2020"): (12, 2, "reported percent", None),
        (EOF_EXTUBATION, "mesoblast-2020"): (12, 9, "reported", None),
        ("death by day 7", "pluristem-2020"): (7, 0, "reported percent", None),
        (EOF_EXTUBATION, "pluristem-2020"): (7, 3, "reported", None),
        (EOF_DEATH, "leng-2020"): (7, 0, "reported", None),
        (EOF_DEATH, "liang-2020"): (1, 0, "reported", None),
        (EOF_EXTUBATION, "liang-2020"): (1, 1, "reported", None),
    }


def test_bundled_secondary_flags(bundled_table):
    got = {(r["study_id"], r["secondary"], r["aggregate_only"]) for r in bundled_table if r["study_id"] is not None}
    assert got == {
        ("iglesias-2021", False, False),
        ("perez-2023", False, False),
        ("leng-2020", True, True),
        ("liang-2020", True, True),
        ("mesoblast-2020", True, True),
        ("pluristem-2020", True, True),
    }


BUNDLED_POOLS = {
    ("death by day 7", False): [(0, 5), (1, 9)],
    ("death by day 7", True): [(0, 5), (1, 9), (0, 7)],
    ("death by day 14", False): [(1, 5), (1, 9)],
    ("death by day 14", True): [(1, 5), (1, 9)],
    ("death by day 21", False): [(2, 5), (1, 9)],
    ("death by day 21", True): [(2, 5), (1, 9)],
    (EOF_DEATH, False): [(2, 5), (1, 9)],
    (EOF_DEATH, True): [(2, 5), (1, 9), (2, 12), (0, 7), (0, 1)],
    (EOF_EXTUBATION, True): [(2, 4), (9, 12), (3, 7), (1, 1)],
}


def test_bundled_pooled_rows(bundled_table):
    """Pools of at least two studies: days 7, 14, 21 and the end of follow-up (primary: Iglesias and
    Perez; with secondary: + Pluristem on day 7, + Mesoblast, Leng, Liang at the end of follow-up);
    extubation only with the secondary studies (Perez has no count, so the primary pool has one
    study). Day 10 (Iglesias only), 26 and 30 (Perez only) and 28 (nobody) have no pooled row.
    Each agrees with the independent implementation."""
    keys = ("outcome", "includes_secondary", "n_studies", "n_patients", "n_events", "estimate", "ci_low", "ci_high", "tau2", "i2")
    got = [tuple(r[k] for k in keys) for r in bundled_table if r["study_id"] is None]
    assert {(r[0], r[1]) for r in got} == set(BUNDLED_POOLS)
    for outcome, includes_secondary, k, n, x, estimate, low, high, tau2, i2 in got:
        studies = BUNDLED_POOLS[(outcome, includes_secondary)]
        assert (k, n, x) == (len(studies), sum(s[1] for s in studies), sum(s[0] for s in studies))
        reference = freeman_tukey_dl(studies)
        assert (estimate, low, high, tau2, i2) == pytest.approx(
            tuple(reference[key] for key in ("estimate", "ci_low", "ci_high", "tau2", "i2")), rel=1e-9, abs=1e-12
        )
