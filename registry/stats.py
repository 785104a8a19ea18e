"""Statistics that SQL cannot do well: the paired Wilcoxon signed-rank test of biomarker change.

    from registry import Registry
    from registry.stats import change_test
    change_test(Registry("registry.duckdb"), "perez-2023", "resp_rate", day=4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .core import Registry
from .errors import QueryError, UnknownName

ALPHA = 0.05
MAX_EXACT_PAIRS = 20  # 2^20 sign patterns; beyond this scipy's normal approximation is used


@dataclass(frozen=True)
class ChangeTest:
    study_id: str
    analyte: str
    context: str | None
    day: int
    n_pairs: int  # patients with a baseline and a value on `day`
    n_zero: int  # pairs with no change (dropped, as Wilcoxon's test does)
    median_change: float | None
    w_plus: float | None  # sum of the ranks of the positive changes
    p_value: float | None  # two-sided
    method: str
    message: str

    def rows(self) -> list[tuple[str, object]]:
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]


def change_test(registry: Registry, study_id: str, analyte: str, day: int, context: str | None = None) -> ChangeTest:
    """Paired Wilcoxon signed-rank test of value on `day` against baseline (biomarker_change)."""
    import numpy as np
    from scipy import stats

    if study_id not in (studies := registry.studies()):
        from .core import _unknown

        raise UnknownName(_unknown("study", study_id, studies))
    with registry._read() as con:
        contexts = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT context FROM biomarker_change WHERE study_id = ? AND analyte = ? AND day = ? ORDER BY 1",
                [study_id, analyte, day],
            ).fetchall()
        ]
        if context is None and len(contexts) > 1:
            listed = ", ".join(repr(c) if c is not None else "none" for c in contexts)
            raise QueryError(f"{analyte} on day {day} was measured in several contexts ({listed}): choose one with --context")
        if context is None and contexts:
            context = contexts[0]
        changes = [
            r[0]
            for r in con.execute(
                "SELECT change FROM biomarker_change WHERE study_id = ? AND analyte = ? AND day = ? "
                "AND coalesce(context, '') = coalesce(?, '') ORDER BY patient_id",
                [study_id, analyte, day, context],
            ).fetchall()
        ]
    differences = np.array([c for c in changes if c != 0], dtype=float)
    n_pairs, n_zero, n = len(changes), len(changes) - len(differences), len(differences)
    median_change = float(np.median(changes)) if changes else None
    base = dict(study_id=study_id, analyte=analyte, context=context, day=day, n_pairs=n_pairs, n_zero=n_zero,
                median_change=median_change)
    if n == 0:
        return ChangeTest(**base, w_plus=None, p_value=None, method="none",
                          message=f"no non-zero paired changes of {analyte} on day {day}: nothing to test")
    ranks = stats.rankdata(np.abs(differences))
    w_plus = float(ranks[differences > 0].sum())
    smallest_p = 2 / 2**n  # all changes in one direction, no ties
    if smallest_p > ALPHA:
        return ChangeTest(
            **base, w_plus=w_plus, p_value=None, method="none",
            message=f"n = {n} non-zero pairs is too small to test: the smallest two-sided p an exact test "
                    f"can give is 2/2^{n} = {smallest_p:.4g} > {ALPHA}",
        )
    if n <= MAX_EXACT_PAIRS:
        # Exact under ties too: every one of the 2^n sign patterns of the observed (mid)ranks.
        def w_statistic(signs_applied, axis=-1):
            return np.sum(np.where(signs_applied > 0, ranks, 0), axis=axis)

        result = stats.permutation_test(
            (differences,), w_statistic, permutation_type="samples", n_resamples=math.inf, alternative="two-sided"
        )
        p_value, method = float(result.pvalue), f"exact (all {2**n} sign patterns), two-sided"
    else:
        result = stats.wilcoxon(differences, method="approx", correction=True)
        p_value, method = float(result.pvalue), "normal approximation with continuity correction, two-sided"
    verdict = "evidence of a change" if p_value < ALPHA else "no evidence of a change"
    return ChangeTest(**base, w_plus=w_plus, p_value=p_value, method=method,
                      message=f"{verdict} at the {ALPHA} level (n = {n} non-zero pairs, {n_zero} unchanged)")
