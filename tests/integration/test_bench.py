"""`ponto bench`, run small: every figure is there and the rows were verified (no timing targets)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ponto.bench import afd, coldstart, synthetic, worker
from ponto.record.afd_check import check_afd_file

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_bench_worker_writes_every_record_each_way_and_reports_ratios(migrated: str) -> None:
    # Given the session's migrated database (the bench truncates its punches table)
    options = worker.WorkerBenchOptions(records=2000, seed_records=200, repeat=1, database_url=migrated)

    # When the worker bench runs small
    figures = worker.run(options)

    # Then each approach wrote every record, and every rate and ratio is there and positive
    assert figures["records"] == 2000
    assert figures["seed_records"] == 200
    assert figures["rows_verified"] is True
    for key in (
        "rows_per_s_b10",
        "rows_per_s_b1000",
        "seed_rows_per_s",
        "copy_rows_per_s",
        "ratio_vs_seed_b10",
        "ratio_vs_seed_b1000",
        "ratio_vs_copy_b1000",
    ):
        assert figures[key] > 0, key
    assert set(figures["targets_met"]) == set(worker.TARGETS)
    assert all(value > 0 for value in figures["us_per_row"].values())


@pytest.mark.slow
def test_bench_worker_seals_every_punch_on_one_and_on_100_establishments(migrated: str) -> None:
    # Given the session's migrated database (the bench empties its record and registry)
    options = worker.WorkerBenchOptions(records=2000, seed_records=100, repeat=1, database_url=migrated)

    # When the worker bench runs small
    figures = worker.run(options)

    # Then both sealed runs were timed and verified (one seal per punch, gap-free NSRs, the chain)
    assert figures["seals_verified"] is True
    for key in ("sealed_1_rows_per_s", "sealed_100_rows_per_s", "ratio_sealed_1_vs_copy", "ratio_sealed_100_vs_copy"):
        assert figures[key] > 0, key
    assert {"ratio_sealed_1_vs_copy", "ratio_sealed_100_vs_copy"} <= set(figures["targets_met"])
    assert all(value > 0 for value in figures["us_per_row_sealed"].values())
    profile = figures["sealed_1_profile"]
    assert profile["batches"] == 2  # at most PROFILED_BATCHES of 1,000: here the 2,000 records
    assert profile["ms_per_batch"] > 0 and profile["ms_by_database_call"]


def test_bench_worker_refuses_a_sealed_run_that_left_punches_unsealed(migrated: str) -> None:
    # Given the registry of a few punches, one layout's devices in place, and nothing written
    records = synthetic.punch_records(40, keys=worker.KEYS)
    registry = worker.build_registry(migrated, worker.parse_records(records))
    layout = registry.layouts["sealed_1"]
    worker.use_layout(migrated, layout)
    worker.reset_record(migrated, registry)
    try:
        # When the handler writes them with the devices gone (every punch recorded unsealed)
        worker.use_layout(migrated, None)
        with worker.worker_handler(migrated) as handler:
            worker.time_handler(handler, records, worker.SEALED_BATCH_SIZE)

        # Then the sealed run's check fails loudly
        with pytest.raises(worker.BenchError, match="40 punches, 0 seals, 40 punches unsealed"):
            worker.verify_sealed(migrated, 40, layout)
    finally:
        worker.clear_registry(migrated)


@pytest.mark.slow
def test_bench_afd_exports_verifies_and_checks_every_record_in_bounded_memory(migrated: str, tmp_path: Path) -> None:
    # Given the session's migrated database (the bench empties its record and registry)
    options = afd.AfdBenchOptions(punches=20_000, database_url=migrated, out=tmp_path)

    # When the AFD bench runs small
    figures = afd.run(options)

    # Then every reader read every record, and every rate and peak RSS is there
    assert figures["punches"] == 20_000
    assert figures["records"] == 20_000 + afd.EMPLOYEES + 1  # the punches, the employees, the employer
    for key in ("afd_records_per_s", "verify_records_per_s", "afd_check_records_per_s"):
        assert figures[key] > 0, key
    assert figures["verify_ok"] is True and figures["afd_check_ok"] is True
    assert set(figures["targets_met"]) == set(afd.TARGETS)
    for reader, peak in figures["peak_rss_mb"].items():
        assert figures["rss_before_mb"][reader] <= peak < 500, reader

    # And the AFD it exported passes `ponto afd verify`'s checks
    result = check_afd_file(Path(figures["afd_file"]))
    assert result.problems == []
    assert result.counts["7"] == 20_000 and result.records == figures["records"]


def test_bench_worker_leaves_the_handler_module_and_environment_as_it_found_them(migrated: str) -> None:
    # Given no worker module imported and no database URL in the environment
    module = coldstart.worker_module()
    sys.modules.pop(module, None)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PONTO_DATABASE_URL", raising=False)

        # When the bench borrows the handler
        with worker.worker_handler(migrated) as handler:
            assert callable(handler)
            assert os.environ["PONTO_DATABASE_URL"] == migrated

        # Then both are as before
        assert "PONTO_DATABASE_URL" not in os.environ
    assert module not in sys.modules


def test_bench_worker_fails_loudly_when_rows_are_missing(migrated: str) -> None:
    worker.truncate(migrated)
    with pytest.raises(worker.BenchError, match="0 rows"):
        worker.verify(migrated, 5, "nothing written")


def test_bench_coldstart_reports_import_times_and_the_zip_or_why_not() -> None:
    # When the cold start bench runs with few interpreters and no packaging
    figures = coldstart.run(coldstart.ColdStartOptions(runs=2, package=False))

    # Then the import figures are there, and the zip is measured or explained
    assert figures["worker_import_ms"] > 0
    assert figures["baseline_import_ms"] > 0
    assert figures["import_ratio"] > 0
    assert figures["runs"] == 2
    if figures["zip_bytes"] is None:
        assert figures["zip_mb"] is None
        assert "serverless package" in figures["zip_note"]
    else:
        assert figures["zip_mb"] > 0


@pytest.mark.slow
@pytest.mark.template
def test_bench_coldstart_packages_the_zip_by_default() -> None:
    figures = coldstart.run(coldstart.ColdStartOptions(runs=1))
    assert figures["zip_note"] == "packaged now", figures["zip_note"]
    assert 1_000_000 < figures["zip_bytes"] <= coldstart.ZIP_BYTES_TARGET
    assert figures["targets_met"]["zip_mb"] is True
