"""loadtest/run end to end: JMeter (2.13 with the compat launch, or 5.x) against real HTTP servers.

Needs JMeter installed (CI: `apt-get install jmeter jmeter-http default-jdk-headless`).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ponto.contract import load_contract
from ponto.errors import InvalidPunchError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "loadtest" / "run"


def _run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RUN), *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO)


def test_every_accepted_punch_is_recorded_exactly_once_on_the_local_stack(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("--threads", "5", "--loops", "10", "--rampup", "1", "--timeout", "120", "--out", str(out))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["requests"] == 50
    assert summary["errors"] == 0
    assert summary["accepted"] == 50
    assert summary["recorded"] == 50
    assert summary["duplicates"] == 0
    assert summary["dlq"] == 0
    assert summary["passed"] is True
    assert summary["throughput_rps"] > 0
    assert summary["lead_time_p50_ms"] is not None
    assert (out / "report.html").exists()
    for png in ("throughput.png", "latency.png", "pipeline.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG"), png
    assert "RESULT: PASS" in result.stdout


class _Contract202(BaseHTTPRequestHandler):
    """A gateway stand-in: the contract's schema and API key check, 202 receipts, bodies kept."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per response (no Nagle delay between headers and body)
    bodies: list[Any]
    lock = threading.Lock()
    api_key = "test-key"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        code, reply = 202, {"status": "accepted", "request_id": "r", "message_id": "m"}
        try:
            body = json.loads(raw)
            if self.headers.get("x-api-key") != self.api_key:
                code, reply = 403, {"message": "Forbidden"}
            elif self.headers.get("Content-Type") != "application/json":
                code, reply = 415, {"message": "Unsupported Media Type"}
            else:
                load_contract().validate_punch(body)
        except (ValueError, InvalidPunchError) as exc:
            code, reply = 400, {"message": "Invalid request body", "detail": str(exc)}
            body = raw.decode(errors="replace")
        with self.lock:
            self.bodies.append(body)
        data = json.dumps(reply).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def contract_server() -> Iterator[tuple[str, list[Any]]]:
    bodies: list[Any] = []
    handler = type("Handler", (_Contract202,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_the_plan_sends_contract_valid_punches_and_counts_the_202s(
    tmp_path: Path, contract_server: tuple[str, list[Any]]
) -> None:
    url, bodies = contract_server
    out = tmp_path / "out"
    result = _run(
        *("--url", url, "--api-key", "test-key", "--runid", "contract1", "--out", str(out)),
        *("--threads", "3", "--loops", "4", "--rampup", "0", "--timeout", "5", "--employees", "2"),
    )
    summary = json.loads((out / "summary.json").read_text())
    # No database given: the rows cannot be verified, so the run cannot pass.
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-4000:]
    assert (summary["requests"], summary["errors"], summary["accepted"]) == (12, 0, 12)
    assert summary["recorded"] is None
    assert any("--database-url" in note for note in summary["notes"])
    assert len(bodies) == 12
    assert all(isinstance(body, dict) for body in bodies), bodies
    assert len({body["punch_id"] for body in bodies}) == 12
    assert {body["employee_id"] for body in bodies} <= {"lt-contract1-1", "lt-contract1-2"}
    assert {body["kind"] for body in bodies} <= {"in", "out", "break_start", "break_end"}
    assert (out / "report.html").exists()


def test_a_wrong_key_fails_every_request(tmp_path: Path, contract_server: tuple[str, list[Any]]) -> None:
    url, _ = contract_server
    out = tmp_path / "out"
    result = _run(
        *("--url", url, "--api-key", "wrong", "--out", str(out)),
        *("--threads", "2", "--loops", "2", "--rampup", "0", "--timeout", "5"),
    )
    assert result.returncode == 1
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["requests"], summary["errors"], summary["accepted"]) == (4, 4, 0)
    assert summary["response_codes"] == {"403": 4}
