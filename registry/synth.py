"""Synthetic case-series packages at any scale, for tests and benchmarks (`registry synth`).

    from registry.synth import write_synthetic
    write_synthetic(Path("synth"), patients=100_000, studies=2, seed=1)   # -> [synth/synth-001, synth/synth-002]

Each study becomes one package (study.yaml + CSV files) that the registry's own rules accept. The
numbers look like a COVID-19 ARDS cell-therapy series, and none of them is real:
- three arms with different dose schedules: 1x10^6 cells/kg once, 1x10^6 cells/kg on days 0 and
  3, and 1x10^8 cells (a total dose) on days 0, 3 and 6; weight is given for some patients in
  patients.csv, for some only as a weight measurement, for the rest not at all;
- about 100 measurements per patient on days -2..28 (SpO2 with its context, respiratory and heart
  rate, temperature, CRP in mg/L or mg/dL, D-dimer in ng/mL or ug/mL, ferritin, lymphocytes in
  cells/uL or 10^9/L, IL-6, LDH, PaO2/FiO2 while ventilated, a few creatinine values without a
  day), with values missing at random and none after the end of a patient's observation;
- events that respect the validator's ordering rules (admission, ICU, intubation, some only as a
  day range, extubation after intubation, death, discharge, known alive at day 28), so that there
  are deaths (some only within a range of days), patients censored at discharge, patients followed
  to day 28 and stays still under way at the end;
- stays as counts, doses, comorbidities (with stated "none" and "NA"), treatments in hospital and
  after discharge, adverse events, findings, study facts, a missing figure, and reported aggregates
  of which some agree with the rows and some deliberately do not.

Generation is vectorised with numpy and the files are written by DuckDB's CSV writer from Arrow
batches (the measurement file streams in blocks of patients, so memory stays bounded). The output
depends only on (patients, studies, seed): the same arguments give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

FOLLOWUP_DAYS = 28
FIRST_DAY = -2
BLOCK_PATIENTS = 20_000  # patients per measurement batch (fixed: the output must not depend on it)

ARMS = (
    ("kg-single", "MSC 1x10^6 cells/kg once", "one IV infusion of 1x10^6 cells/kg on day 0"),
    ("kg-double", "MSC 1x10^6 cells/kg twice", "IV infusions of 1x10^6 cells/kg on days 0 and 3"),
    ("fixed-triple", "MSC 1x10^8 cells three times", "IV infusions of 1x10^8 cells on days 0, 3 and 6"),
)
SEVERITIES = ("moderate", "severe", "critical")

# Measurement schedule: analyte -> days (FIRST_DAY..FOLLOWUP_DAYS) on which it is due.
_DAILY = tuple(range(FIRST_DAY, FOLLOWUP_DAYS + 1))
SCHEDULE = {
    "spo2": _DAILY,
    "resp_rate": _DAILY,
    "heart_rate": _DAILY[::2],
    "temperature": _DAILY[::2],
    "pao2_fio2": _DAILY,  # only while ventilated
    "crp": (-2, -1, 0, 1, 2, 3, 5, 7, 9, 11, 14, 17, 21, 24, 28),
    "d_dimer": (-1, 0, 1, 3, 5, 7, 10, 14, 21, 28),
    "ferritin": (0, 2, 4, 7, 14, 21, 28),
    "lymphocytes": (-1, 0, 1, 3, 5, 7, 10, 14, 21, 28),
    "il6": (0, 1, 3, 7, 14),
    "ldh": (0, 3, 7, 14, 28),
    "weight": (0,),  # only for some patients without weight_kg
}
ANALYTES = tuple(SCHEDULE) + ("creatinine",)  # creatinine: values without a day (seq 1, 2)
# The units each analyte is written in (index 0 is the canonical one).
UNITS = {
    "spo2": ("%",),
    "resp_rate": ("breaths/min",),
    "heart_rate": ("beats/min",),
    "temperature": ("degC", "degF"),
    "pao2_fio2": ("mmHg",),
    "crp": ("mg/L", "mg/dL"),
    "d_dimer": ("ng/mL", "ug/mL"),
    "ferritin": ("ng/mL",),
    "lymphocytes": ("cells/uL", "10^9/L"),
    "il6": ("pg/mL",),
    "ldh": ("U/L",),
    "weight": ("kg", "lb"),
    "creatinine": ("mg/dL", "umol/L"),
}
UNIT_LIST = tuple(dict.fromkeys(u for units in UNITS.values() for u in units))
CONTEXTS = ("room air", "supplemental O2", "mechanical ventilation")
MISSING_RATE = 0.1

COMORBIDITIES = (  # condition as printed, code, probability
    ("Hypertension", "hypertension", 0.45),
    ("Type 2 diabetes", "diabetes_type2", 0.25),
    ("Obesity", "obesity", 0.30),
    ("COPD", "copd", 0.08),
    ("Chronic kidney disease", "chronic_kidney_disease", 0.07),
    ("Coronary artery disease", "coronary_artery_disease", 0.10),
)
TREATMENTS = (  # drug as printed, code, class, probability, detail
    ("dexamethasone", "dexamethasone", "corticosteroid", 0.65, "6 mg daily"),
    ("methylprednisolone", "methylprednisolone", "corticosteroid", 0.15, "1 mg/kg daily"),
    ("tocilizumab", "tocilizumab", "il6_inhibitor", 0.25, "8 mg/kg single dose"),
    ("baricitinib", "baricitinib", "jak_inhibitor", 0.10, None),
    ("enoxaparin", "enoxaparin", "anticoagulant", 0.80, "prophylactic dose"),
    ("remdesivir", "remdesivir", "antiviral", 0.30, "5-day course"),
    ("azithromycin", "azithromycin", "antibiotic", 0.30, None),
    ("ceftriaxone", "ceftriaxone", "antibiotic", 0.20, None),
)
ADVERSE = (  # term, probability, first and last onset day, grades, infusion related, serious, relatedness
    ("fever after infusion", 0.06, 0, 0, (1, 2), True, False, "possibly related"),
    ("transient hypoxemia", 0.03, 0, 0, (2, 3), True, False, "related"),
    ("headache", 0.05, 0, 3, (1, 1), None, False, "not stated"),
    ("deep vein thrombosis", 0.03, 3, 14, (2, 3), None, True, "unrelated"),
    ("secondary bacterial pneumonia", 0.05, 4, 20, (3, 4), False, True, "unrelated"),
)
SOURCES = (  # source_id, locator, quote
    ("s-title", "Title", "A synthetic case series of mesenchymal stromal cells for ARDS"),
    ("s-methods", "Methods", "Patients received MSC infusions according to their arm and were followed for 28 days"),
    ("s-table1", "Table 1", "Baseline characteristics of the patients"),
    ("s-table2", "Table 2", "Clinical course and outcomes per patient"),
    ("s-labs", "Supplementary Table S1", "Laboratory values per patient and day"),
    ("s-vitals", "Supplementary Table S2", "Vital signs per patient and day"),
    ("s-treat", "Table 3", "Concomitant treatments"),
    ("s-ae", "Table 4", "Adverse events"),
    ("s-summary", "Abstract", "Summary figures as printed in the abstract"),
    ("s-text", "Results", "Figures as printed in the results text"),
)


# ---- the cohort: one row of state per patient ---------------------------------------------------


@dataclass
class _Cohort:
    n: int
    pid: pa.Array  # patient ids, strings
    arm: np.ndarray
    sex: np.ndarray  # 0 F, 1 M, -1 not reported
    age: np.ndarray  # NaN = not reported
    weight: np.ndarray  # true weight (kg)
    weight_given: np.ndarray  # weight_kg in patients.csv
    weight_measured: np.ndarray  # a weight measurement on day 0 instead
    severity: np.ndarray  # index into SEVERITIES, -1 = not reported
    sev: np.ndarray  # latent severity 0..1
    icu: np.ndarray  # care_setting icu at day 0
    care_given: np.ndarray
    adm: np.ndarray  # admission day (<= 0)
    vent: np.ndarray  # intubated
    intub: np.ndarray  # intubation day
    intub_range: np.ndarray  # intubation given only as day_min..day_max
    extubated: np.ndarray
    ext: np.ndarray  # extubation day (valid where extubated)
    dead: np.ndarray
    death: np.ndarray  # death day (day_max when a range)
    death_range: np.ndarray  # death given only as death - 2 .. death
    discharged: np.ndarray
    discharge: np.ndarray
    known_alive: np.ndarray  # stated alive at day 28
    obs_end: np.ndarray  # last day with rows (death, discharge, or 28)
    vent_end: np.ndarray  # last day on the ventilator
    icu_end: np.ndarray
    o2_end: np.ndarray  # last day on supplemental oxygen
    tau: np.ndarray  # recovery time scale (days)
    units: dict[str, np.ndarray]  # analyte -> unit index per patient
    durations_given: np.ndarray
    seq_creatinine: np.ndarray
    age90: np.ndarray


def _patient_ids(n: int) -> pa.Array:
    """001, 002, ... as a paper numbers its patients; from 100,000 patients on, A00001 ... B00000 ...,
    because six digits in a row look like a medical record number to the de-identification checks."""
    numbers = np.arange(1, n + 1)
    if n < 100_000:
        return pc.utf8_lpad(pa.array(numbers).cast(pa.string()), max(3, len(str(n))), "0")
    letters = pa.array([chr(ord("A") + k) for k in range(26)]).take(pa.array(numbers // 100_000))
    digits = pc.utf8_lpad(pa.array(numbers % 100_000).cast(pa.string()), 5, "0")
    return pc.binary_join_element_wise(letters, digits, "")


def _cohort(rng: np.random.Generator, n: int, style: np.random.Generator) -> _Cohort:
    u = lambda: rng.random(n)
    # study-level style: how this study's labs report units and how sick its patients are
    unit_share = {a: style.uniform(0.1, 0.5) for a in UNITS}
    mortality = style.uniform(0.8, 1.25)

    arm = rng.choice(len(ARMS), n, p=[0.4, 0.3, 0.3]).astype(np.int8)
    sex = np.where(u() < 0.42, 0, 1).astype(np.int8)
    sex[u() < 0.03] = -1
    age = np.clip(np.round(rng.normal(62, 13, n)), 18, 97)
    age[u() < 0.04] = np.nan
    # HIPAA Safe Harbor: no exact age above 89; age_90_plus says "90 or older", and so does a finding
    age90 = age > 89
    age[age90] = np.nan
    weight = np.clip(np.round(rng.normal(82, 17, n), 1), 40, 180)
    weight_given = u() < 0.6
    weight_measured = ~weight_given & (u() < 0.5)
    severity = rng.choice(3, n, p=[0.25, 0.45, 0.30]).astype(np.int8)
    sev = np.clip(severity * 0.3 + 0.25 + rng.normal(0, 0.1, n), 0, 1)
    adm = -rng.integers(0, 6, n)

    vent = u() < np.choose(severity, [0.05, 0.3, 0.75])
    intub = np.maximum(rng.integers(-3, 4, n), adm)
    intub_range = vent & (u() < 0.06)
    icu = (severity == 2) | (vent & (intub <= 0))
    care_given = u() >= 0.02

    dead = u() < np.choose(severity, [0.04, 0.14, 0.35]) * mortality * np.choose(arm, [1.0, 0.9, 0.85])
    death = rng.integers(1, FOLLOWUP_DAYS + 1, n)
    death = np.where(vent, np.maximum(death, intub + 1), death)
    death = np.clip(death, 1, FOLLOWUP_DAYS)
    death_range = dead & (death >= 3) & (u() < 0.1)

    ext = intub + rng.integers(3, 17, n)
    extubated = vent & np.where(dead, ext < death, ext <= FOLLOWUP_DAYS - 2)
    icu_start = np.where(icu, adm, np.where(vent, intub, 0))
    in_icu = icu | vent
    icu_end_alive = np.where(extubated, ext + 1, icu_start + rng.integers(2, 8, n))
    discharge = np.maximum(rng.integers(7, 36, n), np.where(in_icu, icu_end_alive + 2, 0))
    discharged = ~dead & ~(vent & ~extubated) & (discharge <= FOLLOWUP_DAYS)
    known_alive = discharged & (u() < 0.6)
    obs_end = np.where(dead, np.where(death_range, death - 3, death), np.where(discharged, discharge, FOLLOWUP_DAYS))
    vent_end = np.where(extubated, ext, np.where(dead, death, FOLLOWUP_DAYS))
    icu_end = np.where(dead, death, np.where(discharged, np.minimum(icu_end_alive, discharge - 1), FOLLOWUP_DAYS))
    o2_end = np.where(dead, death, rng.integers(0, 15, n) + severity * 3)
    tau = rng.uniform(5, 20, n)
    units = {a: (u() < unit_share[a]).astype(np.int8) if len(UNITS[a]) > 1 else np.zeros(n, np.int8) for a in UNITS}
    units["temperature"] = (u() < 0.05).astype(np.int8)
    return _Cohort(
        n=n, pid=_patient_ids(n), arm=arm, sex=sex, age=age, weight=weight, weight_given=weight_given,
        weight_measured=weight_measured, severity=severity, sev=sev, icu=icu, care_given=care_given, adm=adm,
        vent=vent, intub=intub, intub_range=intub_range, extubated=extubated, ext=ext, dead=dead, death=death,
        death_range=death_range, discharged=discharged, discharge=discharge, known_alive=known_alive,
        obs_end=obs_end, vent_end=vent_end, icu_end=icu_end, o2_end=o2_end, tau=tau, units=units,
        durations_given=u() < 0.8, seq_creatinine=u() < 0.15, age90=age90,
    )


# ---- Arrow helpers ------------------------------------------------------------------------------


def _ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(values, dtype=np.int32)
    return pa.array(values, type=pa.int32(), mask=None if valid is None else ~np.asarray(valid, bool))


def _floats(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    values = np.asarray(values, dtype=np.float64)
    mask = np.isnan(values) if valid is None else ~np.asarray(valid, bool) | np.isnan(values)
    return pa.array(np.nan_to_num(values), type=pa.float64(), mask=mask)


def _strings(codes: np.ndarray, dictionary, valid: np.ndarray | None = None) -> pa.Array:
    """Strings by index into `dictionary` (NULL where not valid), as a plain string column."""
    codes = np.asarray(codes, dtype=np.int32)
    mask = None if valid is None else ~np.asarray(valid, bool)
    indices = pa.array(np.where(mask, 0, codes) if mask is not None else codes, type=pa.int32(), mask=mask)
    return pa.array(list(dictionary), type=pa.string()).take(indices)


def _const(value: str | None, n: int) -> pa.Array:
    return pa.array([value], type=pa.string()).take(pa.array(np.zeros(n, np.int32)))


def _bools(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, bool), type=pa.bool_(), mask=None if valid is None else ~np.asarray(valid, bool))


def _write(con: duckdb.DuckDBPyConnection, data: pa.Table | pa.RecordBatchReader, path: Path) -> None:
    con.register("synth_rows", data)
    try:
        con.execute(f"COPY (SELECT * FROM synth_rows) TO '{_quote(str(path))}' (FORMAT csv, HEADER true, DELIMITER ',')")
    finally:
        con.unregister("synth_rows")


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _rows_by_patient(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(patient index, column index) of the true cells, patient by patient."""
    patient, column = np.nonzero(matrix)
    return patient, column


# ---- tables -------------------------------------------------------------------------------------


def _patients(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    sex_valid = c.sex >= 0
    severity_valid = rng.random(c.n) >= 0.02
    return pa.table({
        "patient_id": c.pid,
        "arm_id": _strings(c.arm, [a[0] for a in ARMS]),
        "sex": _strings(np.maximum(c.sex, 0), ["F", "M"], sex_valid),
        "age_years": _floats(c.age),
        "age_90_plus": _bools(c.age90, c.age90),  # true, or empty (not stated)
        "weight_kg": _floats(c.weight, c.weight_given),
        "severity": _strings(c.severity, SEVERITIES, severity_valid),
        "care_setting": _strings(np.where(c.icu, 0, 1), ["icu", "ward"], c.care_given),
        "source_id": _const("s-table1", c.n),
    })


def _doses(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    # (arm, infusion, day, amount, unit)
    schedule = [(0, 1, 0, 1e6, 0), (1, 1, 0, 1e6, 0), (1, 2, 3, 1e6, 0), (2, 1, 0, 1e8, 1), (2, 2, 3, 1e8, 1), (2, 3, 6, 1e8, 1)]
    plan = np.array([[s[0] == a for s in schedule] for a in range(len(ARMS))])  # arm x slot
    days = np.array([s[2] for s in schedule])
    given = plan[c.arm] & (days[None, :] <= c.obs_end[:, None])
    patient, slot = _rows_by_patient(given)
    k = len(patient)
    duration = rng.choice([15.0, 30.0, 60.0], k)
    return pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "product_id": _strings(np.where(c.arm[patient] == 2, 1, 0), ["uc-msc", "bm-msc"]),
        "infusion": _ints(np.array([s[1] for s in schedule])[slot]),
        "day": _ints(days[slot]),
        "amount": _floats(np.array([s[3] for s in schedule])[slot]),
        "unit": _strings(np.array([s[4] for s in schedule])[slot], ["cells/kg", "cells"]),
        "route": _const("IV", k),
        "duration_min": _floats(duration, rng.random(k) >= 0.1),
        "source_id": _const("s-methods", k),
    })


_EVENT_NAMES = ("hospital_admission", "icu_admission", "intubation", "prone_position", "extubation",
                "icu_discharge", "death", "hospital_discharge", "known_alive")


def _events(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    idx = np.arange(c.n)
    parts = []  # (patient, event code, day, day_min, day_max, has day, has range, detail code)

    def add(mask, code, day, day_min=None, day_max=None, exact=None, detail=0):
        where = np.nonzero(mask)[0]
        day = np.broadcast_to(day, c.n)[where]
        exact_w = np.ones(len(where), bool) if exact is None else np.broadcast_to(exact, c.n)[where]
        lo = day if day_min is None else np.broadcast_to(day_min, c.n)[where]
        hi = day if day_max is None else np.broadcast_to(day_max, c.n)[where]
        parts.append((where, np.full(len(where), code), day, lo, hi, exact_w, np.full(len(where), detail)))

    prone = c.vent & (rng.random(c.n) < 0.3) & (c.intub + 1 <= np.minimum(c.vent_end, c.obs_end))
    add(np.ones(c.n, bool), 0, c.adm)
    add(c.icu | c.vent, 1, np.where(c.icu, c.adm, c.intub))
    add(c.vent, 2, c.intub, np.maximum(c.intub - 2, c.adm), c.intub, exact=~c.intub_range)
    add(prone, 3, c.intub + 1)
    add(c.extubated, 4, c.ext)
    add((c.icu | c.vent) & c.discharged, 5, c.icu_end)
    add(c.dead, 6, c.death, c.death - 2, c.death, exact=~c.death_range)
    add(c.discharged, 7, c.discharge, detail=1)
    add(c.known_alive, 8, np.full(c.n, FOLLOWUP_DAYS), detail=2)
    patient, code, day, lo, hi, exact, detail = (np.concatenate(p) for p in zip(*parts))
    order = np.lexsort((code, np.where(exact, day, lo), patient))
    patient, code, day, lo, hi, exact, detail = (a[order] for a in (patient, code, day, lo, hi, exact, detail))
    del idx
    return pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "event": _strings(code, _EVENT_NAMES),
        "day": _ints(day, exact),
        "day_min": _ints(lo, ~exact),
        "day_max": _ints(hi, ~exact),
        "detail": _strings(detail, ["", "improved", "alive at the day-28 follow-up call"], detail > 0),
        "source_id": _strings(np.where(code == 8, 1, 0), ["s-table2", "s-text"]),
    })


def _durations(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    hospital_end = np.where(c.dead, c.death, np.where(c.discharged, c.discharge, FOLLOWUP_DAYS))
    from_index = rng.random(c.n) < 0.1
    kinds = np.stack([
        c.durations_given,
        c.durations_given & (c.icu | c.vent),
        c.durations_given & c.vent,
    ], axis=1)
    patient, kind = _rows_by_patient(kinds)
    hospital_days = np.where(from_index, hospital_end, hospital_end - c.adm)
    icu_start = np.where(c.icu, c.adm, c.intub)
    days = np.choose(kind, [hospital_days[patient], (c.icu_end - icu_start)[patient], (c.vent_end - c.intub)[patient]])
    ongoing = np.choose(kind, [
        (~c.dead & ~c.discharged)[patient],
        (~c.dead & ~c.discharged)[patient],
        (c.vent & ~c.extubated & ~c.dead)[patient],
    ])
    counted = np.where((kind == 0) & from_index[patient], 1, 0)
    return pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "kind": _strings(kind, ["hospital", "icu", "ventilation"]),
        "days": _floats(np.maximum(days, 0)),
        "counted_from": _strings(counted, ["admission", "index"]),
        "ongoing": _bools(ongoing),
        "source_id": _const("s-table2", len(patient)),
    })


def _comorbidities(c: _Cohort, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    probs = np.array([p for _, _, p in COMORBIDITIES])
    has = rng.random((c.n, len(COMORBIDITIES))) < probs
    not_reported = rng.random(c.n) < 0.03
    has[not_reported] = False
    none = ~has.any(axis=1) & ~not_reported
    silent = none & (rng.random(c.n) < 0.2)  # no list at all for some patients
    none &= ~silent
    matrix = np.concatenate([has, none[:, None], not_reported[:, None]], axis=1)
    patient, column = _rows_by_patient(matrix)
    labels = [x[0] for x in COMORBIDITIES] + ["None", "NA"]
    codes = [x[1] for x in COMORBIDITIES] + ["none", "not_reported"]
    table = pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "condition": _strings(column, labels),
        "code": _strings(column, codes),
        "source_id": _const("s-table1", len(patient)),
    })
    return table, has, not_reported


def _treatments(c: _Cohort, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    probs = np.array([t[3] for t in TREATMENTS])
    has = rng.random((c.n, len(TREATMENTS))) < probs
    none = ~has.any(axis=1)
    after = c.discharged & (rng.random(c.n) < 0.2)  # apixaban after discharge
    matrix = np.concatenate([has, none[:, None], after[:, None]], axis=1)
    patient, column = _rows_by_patient(matrix)
    k = len(patient)
    start = np.maximum(rng.integers(-3, 3, k), c.adm[patient])
    end = np.minimum(start + rng.integers(2, 11, k), c.obs_end[patient])
    end = np.maximum(end, start)
    hospital = column < len(TREATMENTS)
    is_after = column == len(TREATMENTS) + 1
    start = np.where(is_after, c.discharge[patient], start)
    drugs = [t[0] for t in TREATMENTS] + ["None", "apixaban"]
    codes = [t[1] for t in TREATMENTS] + ["none", "apixaban"]
    classes = [t[2] for t in TREATMENTS] + ["", "anticoagulant"]
    details = [t[4] or "" for t in TREATMENTS] + ["", "2.5 mg twice daily for 30 days"]
    detail_valid = np.array([bool(d) for d in details])[column]
    dated = hospital & (rng.random(k) < 0.7)
    table = pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "drug": _strings(column, drugs),
        "code": _strings(column, codes),
        "drug_class": _strings(column, classes, column != len(TREATMENTS)),
        "phase": _strings(np.where(is_after, 1, 0), ["hospital", "after_discharge"]),
        "start_day": _ints(start, dated | is_after),
        "end_day": _ints(end, dated),
        "detail": _strings(column, details, detail_valid),
        "source_id": _const("s-treat", k),
    })
    return table, has


def _adverse_events(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    probs = np.array([a[1] for a in ADVERSE])
    onset = np.stack([rng.integers(a[2], a[3] + 1, c.n) for a in ADVERSE], axis=1)
    has = (rng.random((c.n, len(ADVERSE))) < probs) & (onset <= c.obs_end[:, None])
    patient, column = _rows_by_patient(has)
    k = len(patient)
    low = np.array([a[4][0] for a in ADVERSE])[column]
    high = np.array([a[4][1] for a in ADVERSE])[column]
    grade = low + np.floor(rng.random(k) * (high - low + 1)).astype(int)
    related = np.array([-1 if a[5] is None else int(a[5]) for a in ADVERSE])[column]
    same_day = np.array([a[2] == a[3] == 0 for a in ADVERSE])[column]
    hours = np.round(rng.uniform(0.5, 8, k), 1)
    return pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "term": _strings(column, [a[0] for a in ADVERSE]),
        "grade": _ints(grade, rng.random(k) >= 0.1),
        "onset_day": _ints(onset[patient, column]),
        "onset_hours": _floats(hours, same_day),
        "duration_days": _floats(np.round(rng.uniform(0.5, 10, k), 1), rng.random(k) < 0.7),
        "infusion_related": _bools(related == 1, related >= 0),
        "serious": _bools(np.array([a[6] for a in ADVERSE])[column]),
        "relatedness": _strings(column, [a[7] for a in ADVERSE]),
        "treatment": _strings(column, ["antipyretics", "oxygen", "analgesics", "therapeutic anticoagulation", "antibiotics"],
                              rng.random(k) < 0.6),
        "outcome": _strings(np.where(grade >= 4, 1, 0), ["resolved", "resolved with sequelae"]),
        "source_id": _const("s-ae", k),
    })


def _findings(c: _Cohort, rng: np.random.Generator) -> pa.Table:
    imaging = rng.random(c.n) < 0.3
    course = c.discharged & (rng.random(c.n) < 0.2)
    patient, column = _rows_by_patient(np.stack([c.age90, imaging, course], axis=1))
    day = np.where(column == 1, 0, c.discharge[patient])
    k = len(patient)
    return pa.table({
        "patient_id": c.pid.take(pa.array(patient)),
        "day": _ints(day, column > 0),
        "day_min": _ints(day, np.zeros(k, bool)),
        "day_max": _ints(day, np.zeros(k, bool)),
        "category": _strings(column, ["demographics", "imaging", "course"]),
        "finding": _strings(column, ["age 90 or older", "bilateral ground-glass opacities on chest CT",
                                     "clinical improvement, weaned off oxygen"]),
        "source_id": _strings(np.where(column == 0, 0, 1), ["s-table1", "s-table2"]),
    })


# ---- measurements -------------------------------------------------------------------------------

_SLOTS = sorted(((d, ANALYTES.index(a)) for a, days in SCHEDULE.items() for d in days))
_SLOT_DAY = np.array([d for d, _ in _SLOTS] + [0, 0], dtype=np.int32)
_SLOT_ANALYTE = np.array([a for _, a in _SLOTS] + [ANALYTES.index("creatinine")] * 2, dtype=np.int8)
_SLOT_SEQ = np.array([0] * len(_SLOTS) + [1, 2], dtype=np.int32)  # 0: dated
_UNIT_CODE = {a: np.array([UNIT_LIST.index(u) for u in UNITS[a]], dtype=np.int32) for a in UNITS}
_MEASUREMENT_SCHEMA = pa.schema([
    ("patient_id", pa.string()), ("day", pa.int32()), ("seq", pa.int32()), ("analyte", pa.string()),
    ("value", pa.float64()), ("unit", pa.string()), ("context", pa.string()), ("source_id", pa.string()),
])


def _analyte_values(name: str, n: int, sev, rec, base_weight, unit_alt, rng) -> tuple[np.ndarray, int]:
    """Values in the unit given by unit_alt (0 = canonical) and their decimals."""
    noise = rng.normal(0, 1, n)
    if name == "spo2":
        return np.clip(np.round(91 + 6 * rec - 8 * sev + 1.8 * noise), 60, 100), 0
    if name == "resp_rate":
        return np.clip(np.round(22 + 8 * sev - 6 * rec + 2.5 * noise), 8, 60), 0
    if name == "heart_rate":
        return np.clip(np.round(92 + 15 * sev - 12 * rec + 8 * noise), 40, 180), 0
    if name == "temperature":
        celsius = np.clip(37.1 + 1.2 * sev * (1 - np.maximum(rec, 0)) + 0.35 * noise, 35, 41.5)
        return np.round(np.where(unit_alt == 1, celsius * 9 / 5 + 32, celsius), 1), 1
    if name == "pao2_fio2":
        return np.clip(np.round(130 + 160 * rec - 60 * sev + 35 * noise), 45, 550), 0
    if name == "crp":
        mg_l = np.clip(np.exp(np.log(90) + 1.0 * sev - 2.0 * rec + 0.45 * noise), 0.3, 600)
        return np.round(np.where(unit_alt == 1, mg_l / 10, mg_l), 2), 2
    if name == "d_dimer":
        ng_ml = np.clip(np.exp(np.log(1100) + 1.2 * sev - 0.8 * rec + 0.5 * noise), 100, 60000)
        return np.round(np.where(unit_alt == 1, ng_ml / 1000, ng_ml), 2), 2
    if name == "ferritin":
        return np.round(np.clip(np.exp(np.log(800) + 0.8 * sev - 0.7 * rec + 0.5 * noise), 15, 30000)), 0
    if name == "lymphocytes":
        per_ul = np.clip(800 - 400 * sev + 700 * rec + 180 * noise, 60, 6000)
        return np.round(np.where(unit_alt == 1, per_ul / 1000, np.round(per_ul)), 2), 2
    if name == "il6":
        return np.round(np.clip(np.exp(np.log(35) + 1.2 * sev - 1.2 * rec + 0.6 * noise), 0.5, 8000), 1), 1
    if name == "ldh":
        return np.round(np.clip(420 + 250 * sev - 150 * rec + 60 * noise, 120, 3000)), 0
    if name == "weight":
        return np.round(np.where(unit_alt == 1, base_weight / 0.45359237, base_weight), 1), 1
    if name == "creatinine":
        mg_dl = np.clip(0.9 + 0.6 * sev + 0.25 * noise, 0.3, 6)
        return np.round(np.where(unit_alt == 1, mg_dl * 88.42, mg_dl), 2), 2
    raise ValueError(name)


def _measurement_block(c: _Cohort, first: int, last: int, rng: np.random.Generator) -> pa.RecordBatch:
    n_slots = len(_SLOT_DAY)
    count = last - first
    patient = np.repeat(np.arange(first, last), n_slots)
    slot = np.tile(np.arange(n_slots), count)
    day = _SLOT_DAY[slot]
    analyte = _SLOT_ANALYTE[slot]
    seq = _SLOT_SEQ[slot]
    start = np.maximum(c.adm, FIRST_DAY)[patient]
    keep = (day >= start) & (day <= c.obs_end[patient]) & (rng.random(len(slot)) >= MISSING_RATE)
    on_vent = c.vent[patient] & (day >= c.intub[patient]) & (day <= c.vent_end[patient])
    keep &= (analyte != ANALYTES.index("pao2_fio2")) | on_vent
    weight_code = ANALYTES.index("weight")
    keep = np.where(analyte == weight_code, c.weight_measured[patient] & (day <= c.obs_end[patient]), keep)
    keep = np.where(seq > 0, c.seq_creatinine[patient], keep)
    patient, day, analyte, seq = patient[keep], day[keep], analyte[keep], seq[keep]
    m = len(patient)

    # recovery 0..1 for survivors (time scale tau), worsening towards death for those who die
    t = np.maximum(day, 0).astype(np.float64)
    rec = np.where(c.dead[patient], -0.8 * np.clip(t / np.maximum(c.death[patient], 1), 0, 1),
                   np.clip(t / c.tau[patient], 0, 1))
    value = np.empty(m)
    unit = np.empty(m, np.int32)
    for code, name in enumerate(ANALYTES):
        rows = np.nonzero(analyte == code)[0]
        if not len(rows):
            continue
        who = patient[rows]
        alt = c.units[name][who]
        value[rows], _ = _analyte_values(name, len(rows), c.sev[who], rec[rows], c.weight[who], alt, rng)
        unit[rows] = _UNIT_CODE[name][alt]
    spo2 = analyte == ANALYTES.index("spo2")
    context = np.where(on_vent[keep], 2, np.where(day <= c.o2_end[patient], 1, 0))
    context = np.where(analyte == ANALYTES.index("pao2_fio2"), 2, context)
    has_context = spo2 | (analyte == ANALYTES.index("pao2_fio2"))
    vitals = np.isin(analyte, [ANALYTES.index(a) for a in ("spo2", "resp_rate", "heart_rate", "temperature", "weight")])
    dated = seq == 0
    return pa.RecordBatch.from_arrays([
        c.pid.slice(first, count).take(pa.array(patient - first, type=pa.int32())),
        _ints(day, dated),
        _ints(seq, ~dated),
        _strings(analyte, ANALYTES),
        pa.array(value, type=pa.float64()),
        _strings(unit, UNIT_LIST),
        _strings(context, CONTEXTS, has_context),
        _strings(np.where(vitals, 1, 0), ["s-labs", "s-vitals"]),
    ], schema=_MEASUREMENT_SCHEMA)


def _measurements(c: _Cohort, seed: np.random.SeedSequence) -> pa.RecordBatchReader:
    blocks = list(range(0, c.n, BLOCK_PATIENTS))
    seeds = seed.spawn(len(blocks))

    def batches() -> Iterator[pa.RecordBatch]:
        for first, block_seed in zip(blocks, seeds):
            yield _measurement_block(c, first, min(first + BLOCK_PATIENTS, c.n), np.random.default_rng(block_seed))

    return pa.RecordBatchReader.from_batches(_MEASUREMENT_SCHEMA, batches())


# ---- study-level files --------------------------------------------------------------------------


def _fmt(value: float, decimals: int = 0) -> str:
    """A number as a paper prints it, rounded half up to `decimals`."""
    scaled = np.floor(value * 10**decimals + 0.5) / 10**decimals
    return f"{scaled:.{decimals}f}"


def _truncate(value: float, decimals: int = 1) -> str:
    return f"{np.floor(value * 10**decimals + 1e-9) / 10**decimals:.{decimals}f}"


def _reported(c: _Cohort, hypertension: np.ndarray, ht_unknown: np.ndarray, steroid: np.ndarray,
              hospital_days: np.ndarray) -> pa.Table:
    """The paper's own figures: most agree with the rows, some deliberately do not."""
    rows: list[tuple] = []  # reported_id, variable, codes, day, statistic, value, unit, population, label, note, source

    def add(*row):
        rows.append(row)

    n = c.n
    add("r-n", "n_patients", None, None, "n", str(n), None, None, "Patients", None, "s-summary")
    add("r-n-text", "n_patients", None, None, "n", str(n + 3), None, None, "Patients enrolled",
        "deliberate disagreement: the text counts three patients who never received cells", "s-text")
    females = int((c.sex == 0).sum())
    known_sex = int((c.sex >= 0).sum())
    add("r-female-n", "female", None, None, "n", str(females), None, None, "Female sex, n", None, "s-table1")
    if known_sex:
        add("r-female-pct", "female", None, None, "percent", _truncate(100 * females / n), None, None,
            "Female sex, %", "percent of all patients, truncated", "s-table1")
    arm0 = c.arm == 0
    add("r-female-arm1", "female", None, None, "n", str(int((c.sex[arm0] == 0).sum())), None, ARMS[0][0],
        f"Female sex, {ARMS[0][1]}", None, "s-table1")
    ages = c.age[~np.isnan(c.age)]
    if len(ages):
        add("r-age-median", "age_years", None, None, "median", _fmt(float(np.median(ages)), 1), "years", None,
            "Age, median", None, "s-table1")
        add("r-age-mean", "age_years", None, None, "mean", _fmt(float(np.mean(ages)), 1), "years", None,
            "Age, mean", None, "s-table1")
        add("r-age-max", "age_years", None, None, "max", _fmt(float(ages.max())), "years", None, "Age, range", None, "s-table1")
        add("r-age-min-text", "age_years", None, None, "min", _fmt(float(ages.min()) - 2), "years", None,
            "Age, youngest patient in the text", "deliberate disagreement with Table 1", "s-text")
    add("r-vent-n", "ventilated", None, None, "n", str(int(c.vent.sum())), None, None, "Invasive ventilation, n", None, "s-table2")
    add("r-deaths", "deaths", None, None, "n", str(int(c.dead.sum())), None, None, "Deaths", None, "s-summary")
    alive28 = int((~c.dead).sum())
    add("r-alive-28", "alive", None, FOLLOWUP_DAYS, "n", str(alive28), None, None, "Alive at day 28", None, "s-summary")
    add("r-ht-n", "comorbidity", "hypertension", None, "n", str(int(hypertension.sum())), None, None,
        "Hypertension, n", None, "s-table1")
    if n:
        add("r-ht-pct", "comorbidity", "hypertension", None, "percent", _fmt(100 * (hypertension.sum() + ht_unknown.sum() + max(1, n // 20)) / n, 1),
            None, None, "Hypertension, %", "deliberate disagreement: percent too high", "s-table1")
    add("r-steroid-n", "treatment_class", "corticosteroid", None, "n", str(int(steroid.sum()) + max(1, n // 10)), None, None,
        "Corticosteroids, n", "deliberate disagreement: more than the rows hold", "s-treat")
    if len(hospital_days):
        add("r-los-median", "hospital_days", None, None, "median", _fmt(float(np.median(hospital_days)), 1), "days", None,
            "Length of stay, median", None, "s-table2")
    ext_days = c.ext[c.extubated]
    if len(ext_days):
        add("r-ext-median", "extubation_day", None, None, "median", _fmt(float(np.median(ext_days)), 1), "days", None,
            "Day of extubation, median", None, "s-table2")
    add("r-masks", "oxygen_masks", None, None, "n", str(int((c.o2_end > 0).sum())), None, None,
        "Non-rebreather masks", "not recomputable from the rows", "s-text")
    columns = list(zip(*rows))
    names = ["reported_id", "variable", "codes", "day", "statistic", "value", "unit", "population", "label", "note", "source_id"]
    data = {name: pa.array(list(col), type=pa.int32() if name == "day" else pa.string()) for name, col in zip(names, columns)}
    return pa.table(data)


def _sources() -> pa.Table:
    return pa.table({
        "source_id": [s[0] for s in SOURCES],
        "document_id": ["paper"] * len(SOURCES),
        "locator": [s[1] for s in SOURCES],
        "quote": [s[2] for s in SOURCES],
        "note": [None] * (len(SOURCES) - 1) + ["synthetic: written by registry synth"],
    })


def _study_facts(n: int) -> pa.Table:
    return pa.table({
        "fact_id": ["f-followup", "f-dose-kg", "f-dose-fixed", "f-enrolled"],
        "topic": ["follow_up", "dose", "dose", "inclusion"],
        "statement": [
            f"Patients were followed for {FOLLOWUP_DAYS} days after the first infusion",
            "Arms kg-single and kg-double received 1x10^6 cells/kg per infusion",
            "Arm fixed-triple received 1x10^8 cells per infusion regardless of weight",
            f"{n} patients with ARDS were enrolled",
        ],
        "value": pa.array([float(FOLLOWUP_DAYS), 1e6, 1e8, float(n)]),
        "unit": ["days", "cells/kg", "cells", "patients"],
        "source_id": ["s-methods"] * 4,
    })


def _study_yaml(study_id: str, number: int, studies: int, n: int, seed: int) -> str:
    document = {
        "study_id": study_id,
        "title": f"Synthetic case series {number} of {studies}: mesenchymal stromal cells for ARDS ({n} patients)",
        "authors": ["Synth A", "Synth B"],
        "journal": "Synthetic Data Reports",
        "year": 2024,
        "citation": f"seed {seed}",
        "design": "case series",
        "country": "Nowhere",
        "setting": f"Synthetic Hospital {number}",
        "condition": "COVID-19 ARDS",
        "index_day": "day of the first MSC infusion",
        "followup_days": FOLLOWUP_DAYS,
        "level": "patient",
        "secondary": False,
        "notes": f"synthetic data written by `registry synth` (seed {seed}): not real patients",
        "source_id": "s-title",
        "field_sources": {"followup_days": "s-methods"},
        "documents": [{
            "document_id": "paper",
            "kind": "other",
            "citation": f"Synth A, Synth B. Synthetic case series {number}. Synthetic Data Reports 2024.",
            "licence": "CC0-1.0",
        }],
        "products": [
            {"product_id": "uc-msc", "name": "umbilical cord MSC", "cell_type": "MSC", "tissue_source": "umbilical cord",
             "donor_type": "allogeneic", "culture": "normoxic", "source_id": "s-methods"},
            {"product_id": "bm-msc", "name": "bone marrow MSC", "cell_type": "MSC", "tissue_source": "bone marrow",
             "donor_type": "allogeneic", "culture": "hypoxic (5% O2)", "source_id": "s-methods"},
        ],
        "arms": [{"arm_id": a, "name": name, "description": text, "source_id": "s-methods"} for a, name, text in ARMS],
    }
    return "# Synthetic: not a real study. Written by `registry synth`.\n" + yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=100)


def _split(patients: int, studies: int) -> list[int]:
    return [patients // studies + (1 if k < patients % studies else 0) for k in range(studies)]


def write_synthetic(out: Path, patients: int, studies: int = 1, seed: int = 0) -> list[Path]:
    """Write `studies` packages (synth-001, synth-002, ...) holding `patients` patients in all
    under `out`, and return their directories. The same arguments give byte-identical files."""
    if studies < 1:
        raise ValueError("studies must be at least 1")
    if patients < studies:
        raise ValueError(f"patients ({patients}) must be at least studies ({studies}): every study needs a patient")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    # one writer thread: the CSV bytes must not depend on scheduling
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    paths = []
    try:
        for number, n in enumerate(_split(patients, studies), start=1):
            study_id = f"synth-{number:03d}"
            target = out / study_id
            target.mkdir(parents=True, exist_ok=True)
            root = np.random.SeedSequence([seed, number])
            (cohort_seed, style_seed, measurement_seed, *table_seeds) = root.spawn(12)
            rngs = iter([np.random.default_rng(s) for s in table_seeds])
            c = _cohort(np.random.default_rng(cohort_seed), n, np.random.default_rng(style_seed))
            comorbidities, comorbidity_matrix, not_reported = _comorbidities(c, next(rngs))
            treatments, treatment_matrix = _treatments(c, next(rngs))
            durations = _durations(c, next(rngs))
            hospital = pc.equal(durations["kind"], "hospital")
            hospital_days = durations.filter(hospital)["days"].to_numpy()
            steroid = treatment_matrix[:, [i for i, t in enumerate(TREATMENTS) if t[2] == "corticosteroid"]].any(axis=1)
            ht = comorbidity_matrix[:, next(i for i, x in enumerate(COMORBIDITIES) if x[1] == "hypertension")]
            (target / "study.yaml").write_text(_study_yaml(study_id, number, studies, n, seed), encoding="utf-8")
            tables = {
                "sources": _sources(),
                "field_sources": pa.table({
                    "table_name": ["patients", "patients"],
                    "row_key": [c.pid[0].as_py()] * 2,
                    "field": ["sex", "age_years"],
                    "source_id": ["s-text", "s-text"],
                }),
                "patients": _patients(c, next(rngs)),
                "doses": _doses(c, next(rngs)),
                "events": _events(c, next(rngs)),
                "durations": durations,
                "adverse_events": _adverse_events(c, next(rngs)),
                "comorbidities": comorbidities,
                "treatments": treatments,
                "findings": _findings(c, next(rngs)),
                "study_facts": _study_facts(n),
                "reported_aggregates": _reported(c, ht, not_reported, steroid, hospital_days),
                "missing_content": pa.table({
                    "item_id": ["m-fig2"],
                    "document_id": ["paper"],
                    "locator": ["Figure 2"],
                    "description": ["CRP and D-dimer over time per arm, shown only as a plot"],
                }),
            }
            for table, data in tables.items():
                _write(con, data, target / f"{table}.csv")
            _write(con, _measurements(c, measurement_seed), target / "measurements.csv")
            paths.append(target)
    finally:
        con.close()
    return paths


__all__ = ["write_synthetic"]
