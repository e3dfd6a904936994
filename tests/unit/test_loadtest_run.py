"""The runner's pure parts: targets, run ids, and failing early without JMeter."""

from pathlib import Path

import pytest

from loadtest import jmeter as jm
from loadtest import run
from loadtest.verify import RUNID


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:3000", run.Target("http", "127.0.0.1", 3000, "/punches")),
        ("http://127.0.0.1:3000/punches", run.Target("http", "127.0.0.1", 3000, "/punches")),
        (
            "https://abc123.execute-api.us-east-1.amazonaws.com/dev/",
            run.Target("https", "abc123.execute-api.us-east-1.amazonaws.com", 443, "/dev/punches"),
        ),
        ("http://localhost", run.Target("http", "localhost", 80, "/punches")),
    ],
)
def test_parse_target(url: str, expected: run.Target) -> None:
    assert run.parse_target(url) == expected


def test_target_url_omits_default_ports() -> None:
    assert run.Target("https", "h", 443, "/dev/punches").url == "https://h/dev/punches"
    assert run.Target("http", "127.0.0.1", 3000, "/punches").url == "http://127.0.0.1:3000/punches"


@pytest.mark.parametrize("url", ["ftp://h/x", "127.0.0.1:3000", "http:///punches"])
def test_parse_target_rejects(url: str) -> None:
    with pytest.raises(ValueError, match="--url"):
        run.parse_target(url)


def test_default_runids_are_valid_and_distinct() -> None:
    ids = {run.default_runid() for _ in range(20)}
    assert all(RUNID.match(runid) for runid in ids)
    assert len(ids) > 1


def test_no_jmeter_exits_2_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(**_: object) -> jm.JMeter:
        raise jm.JMeterError(jm.INSTALL_HINT)

    monkeypatch.setattr(jm, "find_jmeter", missing)
    assert run.main(["--out", str(tmp_path / "out"), "--ponto", "/nonexistent/ponto"]) == 2
    assert "apt-get install jmeter" in capsys.readouterr().err


def test_a_url_needs_a_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PONTO_API_KEY", raising=False)
    assert run.main(["--url", "http://127.0.0.1:3000", "--api-key", ""]) == 2
    assert "--api-key" in capsys.readouterr().err


def test_a_bad_runid_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--runid", "a_b"]) == 2
    assert "run id" in capsys.readouterr().err
