"""km_survival: Kaplan-Meier per study and pooled (study_id NULL), Greenwood variance, log-log 95 % CI.

Formulas checked here (z = 1.959963984540054, the 97.5 % normal quantile):
  S(t) = prod over event days <= t of (1 - d/n);  G(t) = sum of d / (n (n - d));
  std_err = S sqrt(G);  se = sqrt(G) / |ln S|;  CI = exp(-exp(ln(-ln S) +/- z se)).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from conftest import rows
from registry import Registry

Z = 1.959963984540054
COLUMNS = "study_id, day, n_at_risk, n_events, n_censored, survival, ci_low, ci_high, std_err, n_patients"


def write_package(root: Path, study_id: str, patients: list[str], events: list[tuple]) -> Path:
    """A minimal patient-level package: one source, the given patients and events
    (patient_id, event, day, day_min, day_max); no doses, so a patient without events has no
    follow-up day at all."""
    path = root / study_id
    path.mkdir()
    (path / "study.yaml").write_text(
        f"study_id: {study_id}\ntitle: Hand-made survival series {study_id}\nlevel: patient\n"
        "followup_days: 28\nsource_id: s1\ndocuments:\n"
        "  - document_id: paper\n    kind: article\n    citation: Hand-made test series\n"
    )
    (path / "sources.csv").write_text("source_id,document_id,locator,quote,note\ns1,paper,Table 1,hand-made,\n")
    (path / "patients.csv").write_text(
        "patient_id,arm_id,sex,age_years,weight_kg,severity,care_setting,source_id\n"
        + "".join(f"{p},,,,,,,s1\n" for p in patients)
    )
    (path / "events.csv").write_text(
        "patient_id,event,day,day_min,day_max,detail,source_id\n"
        + "".join(
            ",".join("" if v is None else str(v) for v in (p, e, d, lo, hi)) + ",,s1\n" for p, e, d, lo, hi in events
        )
    )
    return path


# km-ties, nine patients (event time or censoring day):
#   p1, p2 die on day 2; p3 is known alive on day 2 (censored on 2: a tie with the two deaths);
#   p9's death is known only as "on day 4 or later" (no latest day): censored on 3, alive before 4;
#   p4 discharged alive on day 4 (censored 4); p5 dies on day 5; p6 died between days 3 and 5
#   (event at the latest possible day, 5); p7 has no dated row at all (censored on day 0);
#   p8, the last one at risk, dies on day 7 (survival reaches 0).
KM_TIES_EVENTS = [
    ("1", "death", 2, None, None),
    ("2", "death", 2, None, None),
    ("3", "known_alive", 2, None, None),
    ("4", "hospital_discharge", 4, None, None),
    ("5", "death", 5, None, None),
    ("6", "death", None, 3, 5),
    ("8", "death", 7, None, None),
    ("9", "death", None, 4, None),
]
# km-other, two patients: q1 dies on day 2, q2 is known alive on day 3.
KM_OTHER_EVENTS = [("q1", "death", 2, None, None), ("q2", "known_alive", 3, None, None)]

# The same data as (time, died) pairs, for the independent implementation.
KM_TIES_TIMES = [(2, 1), (2, 1), (2, 0), (3, 0), (4, 0), (5, 1), (5, 1), (0, 0), (7, 1)]
KM_OTHER_TIMES = [(2, 1), (3, 0)]


@pytest.fixture(scope="module")
def km_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("km")
    ties = write_package(root, "km-ties", [str(i) for i in range(1, 10)], KM_TIES_EVENTS)
    other = write_package(root, "km-other", ["q1", "q2"], KM_OTHER_EVENTS)
    registry, _ = Registry.create(root / "km.duckdb", packages=[ties, other])
    return registry


def km_rows(registry: Registry, where: str) -> list[tuple]:
    return rows(registry, f"SELECT {COLUMNS} FROM km_survival WHERE {where} ORDER BY day")


def assert_rows(got: list[tuple], expected: list[tuple], abs_tol: float) -> None:
    """Counts exactly; survival, CI bounds and std_err to abs_tol (NULL only where NULL is expected)."""
    assert [g[:5] + (g[9],) for g in got] == [e[:5] + (e[9],) for e in expected]
    for g, e in zip(got, expected):
        for a, b in zip(g[5:9], e[5:9]):
            if b is None:
                assert a is None, (g, e)
            else:
                assert a == pytest.approx(b, abs=abs_tol), (g, e)


def test_hand_made_table_with_ties_censoring_and_zero(km_registry):
    """km-ties, by day: at risk n, deaths d, censored c.
    day 0: n 9 (everyone), d 0, c 1 (p7: no follow-up day) -> S = 1; no death yet: CI 1 to 1, std_err 0.
    day 2: n 8, d 2 (p1, p2), c 1 (p3; deaths come first, so p3 is at risk on day 2)
           -> S = 1 - 2/8 = 0.75; G = 2/(8*6) = 1/24; std_err = 0.75*sqrt(1/24) = 0.153093;
           ln S = -0.287682, ln(-ln S) = -1.245899, se = sqrt(1/24)/0.287682 = 0.709548,
           z se = 1.390688: low = exp(-exp(0.144789)) = exp(-1.155795) = 0.314807,
           high = exp(-exp(-2.636587)) = exp(-0.071605) = 0.930898.
    day 3: n 5 (p4 p5 p6 p8 p9), c 1 (p9: alive before its earliest death day 4) -> S 0.75, same CI.
    day 4: n 4, c 1 (p4 discharged) -> unchanged.
    day 5: n 3 (p5 p6 p8), d 2 (p5, and p6 at its latest possible day) -> S = 0.75 * 1/3 = 0.25;
           G = 1/24 + 2/(3*1) = 17/24; std_err = 0.25*sqrt(17/24) = 0.210406;
           ln S = -1.386294, ln(-ln S) = 0.326634, se = sqrt(17/24)/1.386294 = 0.607104,
           z se = 1.189903: low = exp(-exp(1.516537)) = exp(-4.556419) = 0.010500,
           high = exp(-exp(-0.863269)) = exp(-0.421781) = 0.655878.
    day 7: n 1, d 1 (p8) -> S = 0; CI and std_err NULL (undefined)."""
    expected = [
        ("km-ties", 0, 9, 0, 1, 1.0, 1.0, 1.0, 0.0, 9),
        ("km-ties", 2, 8, 2, 1, 0.75, 0.314807, 0.930898, 0.153093, 9),
        ("km-ties", 3, 5, 0, 1, 0.75, 0.314807, 0.930898, 0.153093, 9),
        ("km-ties", 4, 4, 0, 1, 0.75, 0.314807, 0.930898, 0.153093, 9),
        ("km-ties", 5, 3, 2, 0, 0.25, 0.010500, 0.655878, 0.210406, 9),
        ("km-ties", 7, 1, 1, 0, 0.0, None, None, None, 9),
    ]
    assert_rows(km_rows(km_registry, "study_id = 'km-ties'"), expected, abs_tol=5e-7)


def test_pooled_rows_combine_every_patient(km_registry):
    """study_id NULL: the 11 patients of km-ties and km-other in one table.
    day 0: n 11, c 1 (p7). day 2: n 10, d 3 (p1 p2 q1), c 1 (p3) -> S = 7/10; G = 3/(10*7) = 3/70;
           std_err = 0.7*sqrt(3/70) = 0.144914; ln S = -0.356675, se = sqrt(3/70)/0.356675 = 0.580416,
           z se = 1.137593: low = exp(-exp(-1.030930 + 1.137593)) = exp(-1.112559) = 0.328717,
           high = exp(-exp(-1.030930 - 1.137593)) = exp(-0.114346) = 0.891949.
    day 3: n 6, c 2 (p9, q2). day 4: n 4, c 1 (p4).
    day 5: n 3, d 2 -> S = 0.7/3 = 7/30 = 0.233333; G = 3/70 + 2/3 = 0.709524; std_err = 0.196544;
           ln S = -1.455287, se = sqrt(0.709524)/1.455287 = 0.578808, z se = 1.134443:
           low = exp(-exp(0.375203 + 1.134443)) = exp(-4.525132) = 0.010833,
           high = exp(-exp(0.375203 - 1.134443)) = exp(-0.468022) = 0.626240.
    day 7: n 1, d 1 -> 0, CI NULL."""
    expected = [
        (None, 0, 11, 0, 1, 1.0, 1.0, 1.0, 0.0, 11),
        (None, 2, 10, 3, 1, 0.7, 0.328717, 0.891949, 0.144914, 11),
        (None, 3, 6, 0, 2, 0.7, 0.328717, 0.891949, 0.144914, 11),
        (None, 4, 4, 0, 1, 0.7, 0.328717, 0.891949, 0.144914, 11),
        (None, 5, 3, 2, 0, 7 / 30, 0.010833, 0.626240, 0.196544, 11),
        (None, 7, 1, 1, 0, 0.0, None, None, None, 11),
    ]
    assert_rows(km_rows(km_registry, "study_id IS NULL"), expected, abs_tol=5e-7)


def test_second_study_alone(km_registry):
    """km-other: q1 dies on day 2 (n 2 -> S = 1/2, G = 1/(2*1) = 1/2), q2 censored on day 3.
    std_err = 0.5*sqrt(0.5) = 0.353553; ln S = -0.693147, ln(-ln S) = -0.366513,
    se = sqrt(0.5)/0.693147 = 1.020139, z se = 1.999437:
    low = exp(-exp(1.632924)) = exp(-5.118819) = 0.005983, high = exp(-exp(-2.365949)) = exp(-0.093860) = 0.910410."""
    expected = [
        ("km-other", 2, 2, 1, 0, 0.5, 0.005983, 0.910410, 0.353553, 2),
        ("km-other", 3, 1, 0, 1, 0.5, 0.005983, 0.910410, 0.353553, 2),
    ]
    assert_rows(km_rows(km_registry, "study_id = 'km-other'"), expected, abs_tol=5e-7)


def independent_km(times: list[tuple[int, int]]) -> SurvfuncRight:
    t = np.array([float(d) for d, _ in times])
    status = np.array([died for _, died in times])
    return SurvfuncRight(t, status)


@pytest.mark.parametrize(
    "where, times",
    [
        ("study_id = 'km-ties'", KM_TIES_TIMES),
        ("study_id = 'km-other'", KM_OTHER_TIMES),
        ("study_id IS NULL", KM_TIES_TIMES + KM_OTHER_TIMES),
    ],
)
def test_agrees_with_statsmodels(km_registry, where, times):
    """statsmodels' SurvfuncRight (product limit, Greenwood standard error) on the same times, read
    as a step function at every day of the view; the log-log interval is formed from its standard
    error: se = std_err / (S |ln S|). Its risk sets must equal n_at_risk on the event days."""
    sf = independent_km(times)
    got = km_rows(km_registry, where)
    assert [r[1] for r in got] == sorted({d for d, _ in times})
    for study_id, day, n_at_risk, n_events, n_censored, s, low, high, std_err, n_patients in got:
        assert n_patients == len(times)
        assert n_events == sum(1 for d, died in times if d == day and died)
        assert n_censored == sum(1 for d, died in times if d == day and not died)
        assert n_at_risk == sum(1 for d, _ in times if d >= day)
        before = [i for i, t in enumerate(sf.surv_times) if t <= day]
        if not before:
            assert (s, low, high, std_err) == (1.0, 1.0, 1.0, 0.0)
            continue
        i = before[-1]
        if sf.surv_times[i] == day:
            assert n_at_risk == sf.n_risk[i]
        assert s == pytest.approx(sf.surv_prob[i], abs=1e-12)
        if sf.surv_prob[i] == 0:
            assert (low, high, std_err) == (None, None, None)
            continue
        assert std_err == pytest.approx(sf.surv_prob_se[i], rel=1e-10)
        se = sf.surv_prob_se[i] / (sf.surv_prob[i] * abs(math.log(sf.surv_prob[i])))
        centre = math.log(-math.log(sf.surv_prob[i]))
        assert low == pytest.approx(math.exp(-math.exp(centre + Z * se)), rel=1e-10)
        assert high == pytest.approx(math.exp(-math.exp(centre - Z * se)), rel=1e-10)


def test_iglesias(bundled_registry):
    """Iglesias 2021: patient 5 dies on day 13, patient 4 on day 15, patients 1-3 are known alive
    through day 21 (censored 21).
    day 13: n 5, d 1 -> S = 4/5 = 0.8; G = 1/(5*4) = 0.05; std_err = 0.8*sqrt(0.05) = 0.178885;
            ln S = -0.223144, ln(-ln S) = -1.499940, se = sqrt(0.05)/0.223144 = 1.002076,
            z se = 1.964033: low = exp(-exp(0.464093)) = exp(-1.590571) = 0.203809,
            high = exp(-exp(-3.463973)) = exp(-0.031305) = 0.969180.
    day 15: n 4, d 1 -> S = 0.8 * 3/4 = 0.6; G = 0.05 + 1/(4*3) = 0.133333; std_err = 0.6*sqrt(0.133333) = 0.219089;
            ln S = -0.510826, ln(-ln S) = -0.671727, se = sqrt(0.133333)/0.510826 = 0.714820,
            z se = 1.401021: low = exp(-exp(0.729294)) = exp(-2.073617) = 0.125730,
            high = exp(-exp(-2.072748)) = exp(-0.125839) = 0.881756.
    day 21: n 3, d 0, c 3 -> S stays 0.6."""
    expected = [
        ("iglesias-2021", 13, 5, 1, 0, 0.8, 0.203809, 0.969180, 0.178885, 5),
        ("iglesias-2021", 15, 4, 1, 0, 0.6, 0.125730, 0.881756, 0.219089, 5),
        ("iglesias-2021", 21, 3, 0, 3, 0.6, 0.125730, 0.881756, 0.219089, 5),
    ]
    assert_rows(km_rows(bundled_registry, "study_id = 'iglesias-2021'"), expected, abs_tol=5e-7)


def test_perez_all_censored(bundled_registry):
    """Perez 2023 records no death; each patient is censored on the last day the rows show them
    alive (patient_outcomes.last_followup_day): 003 and 005 on day 4, 001 on 5, 007 on 6, 008 on 8,
    004 and 009 on 15, 006 on 21, 002 on 22. Survival stays 1 (CI 1 to 1, std_err 0)."""
    got = km_rows(bundled_registry, "study_id = 'perez-2023'")
    assert [r[1:5] for r in got] == [
        (4, 9, 0, 2),
        (5, 7, 0, 1),
        (6, 6, 0, 1),
        (8, 5, 0, 1),
        (15, 4, 0, 2),
        (21, 2, 0, 1),
        (22, 1, 0, 1),
    ]
    assert {r[5:10] for r in got} == {(1.0, 1.0, 1.0, 0.0, 9)}


def test_bundled_pooled(bundled_registry):
    """All 14 patient rows (Iglesias 5, Perez 9; the aggregate-only studies have none).
    day 13: at risk 14 - 5 censored on days 4-8 (003 005 001 007 008) = 9, d 1 -> S = 8/9 = 0.888889;
            G = 1/(9*8) = 1/72; std_err = 0.104757; ln S = -0.117783, se = sqrt(1/72)/0.117783 = 1.000578, z se = 1.961097:
            low = exp(-exp(-2.138911 + 1.961097)) = exp(-0.837098) = 0.432965,
            high = exp(-exp(-4.100008)) = exp(-0.016573) = 0.983564.
    day 15: n 8, d 1, c 2 (Perez 004, 009) -> S = 8/9 * 7/8 = 7/9 = 0.777778; G = 1/72 + 1/56 = 0.031746; std_err = 0.138580;
            ln S = -0.251314, se = sqrt(0.031746)/0.251314 = 0.708969, z se = 1.389554:
            low = exp(-exp(-1.381050 + 1.389554)) = exp(-1.008540) = 0.364751,
            high = exp(-exp(-2.770604)) = exp(-0.062624) = 0.939296.
    day 21: n 5, c 4 (Iglesias 1-3, Perez 006); day 22: n 1, c 1 (Perez 002)."""
    got = km_rows(bundled_registry, "study_id IS NULL")
    assert [r[1:5] for r in got] == [
        (4, 14, 0, 2),
        (5, 12, 0, 1),
        (6, 11, 0, 1),
        (8, 10, 0, 1),
        (13, 9, 1, 0),
        (15, 8, 1, 2),
        (21, 5, 0, 4),
        (22, 1, 0, 1),
    ]
    by_day = {r[1]: r[5:9] for r in got}
    assert by_day[8] == (1.0, 1.0, 1.0, 0.0)
    assert by_day[13] == pytest.approx((8 / 9, 0.432965, 0.983564, 0.104757), abs=5e-7)
    assert by_day[15] == pytest.approx((7 / 9, 0.364751, 0.939296, 0.138580), abs=5e-7)
    assert by_day[22] == pytest.approx((7 / 9, 0.364751, 0.939296, 0.138580), abs=5e-7)
    assert {r[9] for r in got} == {14}
