"""`ponto bench`, run small: every figure is there and the rows were verified (no timing targets)."""

from __future__ import annotations

import os
import sys

import pytest

from ponto.bench import coldstart, worker

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
