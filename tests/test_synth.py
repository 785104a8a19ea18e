"""registry.synth: synthetic packages are valid, deterministic and look like the issue asks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry import Registry
from registry.synth import write_synthetic

PATIENTS = 200
STUDIES = 2


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    paths = write_synthetic(out, PATIENTS, studies=STUDIES, seed=7)
    assert [p.name for p in paths] == ["synth-001", "synth-002"]
    return out


def _import_all(registry: Registry, synth_dir: Path) -> Registry:
    for package in sorted(synth_dir.iterdir()):
        result = registry.import_package(package)
        assert result.action == "imported", result.summary()
    return registry


@pytest.fixture(scope="module")
def synth_registry(_templates, synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """One registry with both synthetic studies, shared by the read-only tests of this module."""
    target = tmp_path_factory.mktemp("synth-registry") / "registry.duckdb"
    shutil.copyfile(_templates["empty"], target)
    return _import_all(Registry(target), synth_dir)


def _one(registry: Registry, sql: str):
    return registry.sql(sql).rows()[0]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_package_is_valid(synth_dir: Path):
    result = Registry.validate(synth_dir / "synth-002")  # synth-001 is imported below
    assert result.action == "valid"
    assert result.row_counts["measurements"] > 0


def test_imports_into_an_empty_registry(empty_registry: Registry, synth_dir: Path):
    synth_registry = _import_all(empty_registry, synth_dir)
    assert synth_registry.studies() == ["synth-001", "synth-002"]
    assert _one(synth_registry, "SELECT count(*) FROM patients") == (PATIENTS,)
    # the patients are split over the studies
    assert synth_registry.sql("SELECT study_id, count(*) FROM patients GROUP BY 1 ORDER BY 1").rows() == [
        ("synth-001", 100), ("synth-002", 100)]


def test_same_seed_same_bytes_other_seed_other_bytes(synth_dir: Path, tmp_path: Path):
    again = write_synthetic(tmp_path / "again", PATIENTS, studies=STUDIES, seed=7)
    assert _files(synth_dir) == _files(again[0].parent)
    other = write_synthetic(tmp_path / "other", PATIENTS, studies=STUDIES, seed=8)
    first, second = _files(synth_dir), _files(other[0].parent)
    assert first.keys() == second.keys()
    assert first["synth-001/measurements.csv"] != second["synth-001/measurements.csv"]
    assert first["synth-001/patients.csv"] != second["synth-001/patients.csv"]


def test_about_100_measurements_per_patient(synth_registry: Registry):
    per_patient, analytes = _one(
        synth_registry,
        "SELECT count(*) / count(DISTINCT study_id || '/' || patient_id), count(DISTINCT analyte) FROM measurements",
    )
    assert 85 <= per_patient <= 115
    assert analytes >= 10
    # values missing at random: days with a respiratory rate but no SpO2
    assert _one(synth_registry,
                "SELECT count(*) FROM measurements r WHERE r.analyte = 'resp_rate' AND NOT EXISTS ("
                "SELECT 1 FROM measurements s WHERE s.analyte = 'spo2' AND s.study_id = r.study_id "
                "AND s.patient_id = r.patient_id AND s.day = r.day)")[0] > 0
    # values without a day carry seq
    assert _one(synth_registry, "SELECT count(*) FROM measurements WHERE day IS NULL AND seq IS NOT NULL")[0] > 0


def test_units_and_contexts_vary(synth_registry: Registry):
    units = dict(synth_registry.sql(
        "SELECT analyte, list(DISTINCT unit ORDER BY unit) FROM measurements GROUP BY analyte").rows())
    assert units["crp"] == ["mg/L", "mg/dL"] or sorted(units["crp"]) == ["mg/L", "mg/dL"]
    assert sorted(units["d_dimer"]) == ["ng/mL", "ug/mL"]
    contexts = {r[0] for r in synth_registry.sql(
        "SELECT DISTINCT context FROM measurements WHERE analyte = 'spo2'").rows()}
    assert {"room air", "supplemental O2", "mechanical ventilation"} <= contexts
    # every value lands inside the analyte's plausible range once converted
    assert _one(synth_registry,
                "SELECT count(*) FROM measurements m JOIN analytes a USING (analyte) "
                "WHERE m.value_canonical NOT BETWEEN a.plausible_min AND a.plausible_max") == (0,)


def test_deaths_censoring_and_missing_values(synth_registry: Registry):
    dead, alive, unknown = _one(
        synth_registry,
        "SELECT count(*) FILTER (WHERE vital_status = 'dead'), count(*) FILTER (WHERE vital_status = 'alive'), "
        "count(*) FILTER (WHERE vital_status = 'unknown') FROM patient_outcomes",
    )
    assert dead > 0 and alive > 0 and unknown > 0
    events, censored = _one(synth_registry, "SELECT sum(n_events), sum(n_censored) FROM km_survival WHERE study_id IS NOT NULL")
    assert events == dead and censored == PATIENTS - dead
    counts = _one(
        synth_registry,
        "SELECT "
        # censored before the end of follow-up (discharged, then lost) and at day 28
        "(SELECT count(*) FROM patient_outcomes WHERE vital_status <> 'dead' AND last_followup_day < 28), "
        "(SELECT count(*) FROM patient_outcomes WHERE vital_status <> 'dead' AND last_followup_day = 28), "
        # deaths and intubations known only within a range of days
        "(SELECT count(*) FROM events WHERE event = 'death' AND day IS NULL AND day_max IS NOT NULL), "
        "(SELECT count(*) FROM events WHERE event = 'intubation' AND day IS NULL AND day_min IS NOT NULL), "
        # stays still under way at the report, missing ages and sexes
        "(SELECT count(*) FROM durations WHERE ongoing), "
        "(SELECT count(*) FROM patients WHERE age_years IS NULL), "
        "(SELECT count(*) FROM patients WHERE sex IS NULL), "
        # ages above 89 are not given exactly (HIPAA Safe Harbor): a finding says 90 or older
        "(SELECT count(*) FROM findings WHERE category = 'demographics' AND finding = 'age 90 or older'), "
        "(SELECT count(*) FROM patients WHERE age_90_plus AND age_years IS NULL)",
    )
    assert all(n > 0 for n in counts), counts
    # each patient aged 90 or older is flagged in age_90_plus and has the finding
    assert counts[-1] == counts[-2]


def test_arms_doses_and_weights(synth_registry: Registry):
    assert _one(synth_registry, "SELECT count(DISTINCT arm_id) FROM patients") == (3,)
    units, max_infusion = _one(synth_registry, "SELECT list(DISTINCT unit ORDER BY unit), max(infusion) FROM doses")
    assert units == ["cells", "cells/kg"] and max_infusion == 3
    # weights from patients.csv for some, only from a weight measurement for others, none for the rest
    from_table, from_measurement, without = _one(
        synth_registry,
        "SELECT count(*) FILTER (WHERE p.weight_kg IS NOT NULL), "
        "count(*) FILTER (WHERE p.weight_kg IS NULL AND d.weight_kg IS NOT NULL), "
        "count(*) FILTER (WHERE d.weight_kg IS NULL) "
        "FROM dose_normalized d JOIN patients p USING (study_id, patient_id)",
    )
    assert from_table > 0 and from_measurement > 0 and without > 0
    for table in ("comorbidities", "treatments", "adverse_events", "durations", "findings", "events"):
        assert _one(synth_registry, f"SELECT count(*) FROM {table}")[0] > 0, table


def test_reported_aggregates_agree_and_disagree(synth_registry: Registry):
    agrees = {r[0]: r[1] for r in synth_registry.sql(
        "SELECT reported_id, agrees FROM reported_vs_computed WHERE study_id = 'synth-001'").rows()}
    assert agrees["r-n"] is True and agrees["r-age-median"] is True and agrees["r-vent-n"] is True
    assert agrees["r-n-text"] is False and agrees["r-steroid-n"] is False and agrees["r-age-min-text"] is False
    assert agrees["r-masks"] is None  # not recomputable


def test_bad_arguments(tmp_path: Path):
    with pytest.raises(ValueError):
        write_synthetic(tmp_path, patients=1, studies=2)
    with pytest.raises(ValueError):
        write_synthetic(tmp_path, patients=10, studies=0)


def test_cli_writes_the_same_bytes_as_the_library(tmp_path: Path):
    from conftest import run

    result = run("synth", "--patients", "30", "--studies", "2", "--seed", "3", "--out", str(tmp_path / "cli"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'cli' / 'synth-001'}\n{tmp_path / 'cli' / 'synth-002'}\n"
    write_synthetic(tmp_path / "lib", 30, studies=2, seed=3)
    assert _files(tmp_path / "cli") == _files(tmp_path / "lib")


def test_cli_refuses_fewer_patients_than_studies(tmp_path: Path):
    from conftest import run

    result = run("synth", "--patients", "1", "--studies", "2", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "1 patients cannot fill 2 studies" in result.stderr
    assert not any(tmp_path.iterdir())
