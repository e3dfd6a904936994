"""The HTML report and its plots."""

from pathlib import Path

from loadtest.report import write_report
from loadtest.results import Sample, per_second
from loadtest.sampler import Observation
from loadtest.summary import Summary, evaluate

PNG = b"\x89PNG\r\n\x1a\n"


def _summary(passed: bool = True) -> Summary:
    return evaluate(
        Summary(
            runid="r1",
            url="http://127.0.0.1:3000/punches",
            threads=2,
            loops=3,
            jmeter_version="2.13 (compat)",
            requests=6,
            errors=0,
            accepted=6,
            recorded=6 if passed else None,
            duplicates=0,
            dlq=0,
            throughput_rps=3.0,
            p50_ms=5.0,
            p95_ms=8.0,
            p99_ms=9.0,
            drain_s=1.0,
            drained=True,
            lead_time_p50_ms=30.0,
            lead_time_p99_ms=80.0,
            notes=[] if passed else ["recorded <not verified> & co"],
        )
    )


def test_report_with_plots_beside_it(tmp_path: Path) -> None:
    samples = [Sample(1000 + 400 * i, 5 + i, "POST /punches", "202", True) for i in range(6)]
    observations = [
        Observation(
            t=0.5 + i,
            queue=max(0, 4 - i),
            in_flight=1 if i < 4 else 0,
            dlq=0,
            run_rows=min(6, 2 * i),
            status_t=0.2 + i // 2,  # a slower probe: every answer is seen twice
            rows_t=0.4 + i,
        )
        for i in range(6)
    ]
    report = write_report(tmp_path, _summary(), per_second(samples), observations, origin_s=1.0, load_end_s=2.2)
    assert report == tmp_path / "report.html"
    page = report.read_text()
    assert "PASS" in page
    for png in ("throughput.png", "latency.png", "pipeline.png"):
        assert f'src="{png}"' in page
        assert (tmp_path / png).read_bytes().startswith(PNG)
    assert (tmp_path / "timeline.csv").read_text().startswith("t_s,requests,errors")
    assert len((tmp_path / "pipeline.csv").read_text().splitlines()) == 7


def test_report_of_an_empty_failed_run_escapes_text(tmp_path: Path) -> None:
    report = write_report(tmp_path, _summary(passed=False), [], [], origin_s=0.0)
    page = report.read_text()
    assert "FAIL" in page
    assert "UNKNOWN" in page
    assert "&lt;not verified&gt; &amp; co" in page
    assert (tmp_path / "pipeline.png").read_bytes().startswith(PNG)
