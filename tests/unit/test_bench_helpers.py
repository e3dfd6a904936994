"""Pure helpers of `ponto bench`: synthetic events, rows, ratios, import-time parsing, the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ponto.bench import cli, coldstart, measure, synthetic, worker
from ponto.contract import load_contract
from ponto.punch import QueuedMessage, parse_punch
from ponto.store import COLUMNS, copy_text


def test_synthetic_records_are_valid_distinct_v1_punches_with_gateway_attributes() -> None:
    records = synthetic.punch_records(300)

    punches = [parse_punch(QueuedMessage.from_sqs_record(r), ZoneInfo("America/Sao_Paulo")) for r in records]

    assert len({p.punch_id for p in punches}) == 300
    assert {p.format for p in punches} == {"v1"}
    assert all(p.request_id and p.source_ip and p.api_key_id and p.received_at_ms for p in punches)
    assert all(p.punched_at and p.punched_at.timestamp() * 1000 <= p.received_at_ms
               for p in punches if p.received_at_ms)  # fmt: skip
    for record in records[:20]:
        load_contract().validate_punch(json.loads(record["body"]))


def test_synthetic_records_are_reproducible() -> None:
    assert synthetic.punch_records(5) == synthetic.punch_records(5)
    assert synthetic.punch_records(5, seed=1) != synthetic.punch_records(5)


def test_events_group_records_as_the_event_source_does() -> None:
    records = synthetic.punch_records(25)

    events = synthetic.sqs_events(records, 10)

    assert [len(e["Records"]) for e in events] == [10, 10, 5]
    assert [r for e in events for r in e["Records"]] == records
    with pytest.raises(ValueError, match="at least 1"):
        list(synthetic.batches(records, 0))


def test_the_context_has_what_powertools_reads() -> None:
    context = synthetic.bench_context()

    assert context.function_name == synthetic.FUNCTION_NAME
    assert context.invoked_function_arn.endswith(context.function_name)
    assert context.memory_limit_in_mb == 512
    assert 0 < context.get_remaining_time_in_millis() <= 60_000
    assert context.aws_request_id != synthetic.bench_context().aws_request_id


def test_the_reference_row_and_the_copy_row_hold_the_same_punch() -> None:
    record = synthetic.punch_records(1)[0]
    (punch,) = worker.parse_records([record])

    seed = worker.seed_row(record)
    copied = copy_text([punch]).rstrip("\n").split("\t")

    assert len(seed) == len(copied) == len(COLUMNS)
    assert seed[0] == copied[0] == punch.punch_id
    assert json.loads(seed[COLUMNS.index("raw")]) == json.loads(copied[COLUMNS.index("raw")])
    assert seed[COLUMNS.index("received_at")].timestamp() * 1000 == punch.received_at_ms


def test_rates_and_ratios() -> None:
    assert measure.rate(1000, 0.5) == 2000.0
    assert measure.rate(1000, 0) == 0.0
    assert measure.ratio(30.0, 2.0) == 15.0
    assert measure.ratio(1.0, 0.0) is None
    assert measure.median([3.0, 1.0, 2.0]) == 2.0
    assert measure.at_least(3.0, 3.0) and not measure.at_least(None, 1.0)
    assert measure.at_most(2.0, 2.0) and not measure.at_most(2.1, 2.0)


def test_report_computes_ratios_and_targets_from_median_seconds() -> None:
    seconds = {"b10": 2.0, "b1000": 0.5, "seed": 2.5, "copy": 0.25, "python": 0.24}
    figures = worker.report(20000, 5000, seconds, repeat=3)

    assert figures["rows_per_s_b10"] == 10000.0
    assert figures["seed_rows_per_s"] == 2000.0
    assert figures["ratio_vs_seed_b10"] == 5.0
    assert figures["ratio_vs_seed_b1000"] == 20.0
    assert figures["ratio_vs_copy_b1000"] == 0.5
    assert figures["targets_met"] == {
        "ratio_vs_seed_b1000": False,
        "ratio_vs_copy_b1000": False,
        "ratio_vs_seed_b10": True,
    }
    assert figures["all_targets_met"] is False
    assert figures["us_per_row"] == {"python_alone": 12.0, "copy_alone": 12.5, "handler_b1000": 25.0}


def test_silenced_stdout_swallows_prints(capsys: pytest.CaptureFixture[str]) -> None:
    with measure.silenced_stdout():
        print("an EMF line")
    print("after")

    assert capsys.readouterr().out == "after\n"


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:      2000 |       5000 |     botocore.session
import time:      3000 |       3000 |   botocore
import time:       500 |       9000 | functions.worker
not an import line
"""


def test_importtime_lines_are_parsed_and_summed_by_package() -> None:
    entries = coldstart.parse_importtime(IMPORTTIME)

    assert entries[1] == ("botocore.session", 2000, 5000)
    assert coldstart.heaviest_packages(entries, top=2) == [
        {"package": "botocore", "ms": 5.0},
        {"package": "functions", "ms": 0.5},
    ]


def test_the_worker_module_is_the_one_serverless_yml_names() -> None:
    assert coldstart.worker_module() == "functions.worker"


def test_import_env_sets_a_database_url_that_answers_nothing_and_lambdas_variables() -> None:
    env = coldstart.import_env({"PATH": "/bin", "PONTO_DATABASE_URL": "postgresql:///real"}, Path("/task"))

    assert env["PONTO_DATABASE_URL"] == coldstart.DUMMY_DATABASE_URL
    assert env["PATH"] == "/bin"
    assert env["LAMBDA_TASK_ROOT"] == "/task" and env["_HANDLER"] == "functions/worker.handler"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ponto")
    cli.add_bench_parser(root.add_subparsers(dest="command", required=True))
    return root


def test_the_bench_commands_parse_with_their_defaults() -> None:
    args = parser().parse_args(["bench", "worker", "--json"])
    assert (args.records, args.json, args.database_url, args.run) == (20000, True, None, cli.run_worker)

    args = parser().parse_args(["bench", "worker", "--records", "500", "--database-url", "postgresql:///x"])
    assert (args.records, args.json, args.database_url) == (500, False, "postgresql:///x")

    args = parser().parse_args(["bench", "coldstart", "--json"])
    assert (args.package, args.runs, args.json, args.run) == (True, 7, True, cli.run_coldstart)
    assert parser().parse_args(["bench", "coldstart", "--package"]).package is True
    assert parser().parse_args(["bench", "coldstart", "--no-package"]).package is False


@pytest.mark.parametrize(
    "argv",
    [
        ["bench"],
        ["bench", "worker", "--records", "0"],
        ["bench", "nope"],
        ["bench", "coldstart", "--package", "--no-package"],
    ],
)
def test_bad_bench_commands_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(argv)


def test_figures_print_as_lines_with_verdicts() -> None:
    text = cli.format_figures(
        {
            "zip_mb": None,
            "import_ratio": 1.5,
            "targets": {"import_ratio": 2.0, "zip_mb": 5.0},
            "targets_met": {"import_ratio": True, "zip_mb": None},
        }
    )

    assert "zip_mb: n/a" in text
    assert "target import_ratio <= 2.0: met" in text
    assert "target zip_mb <= 5.0: not measured" in text
