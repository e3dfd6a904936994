"""The local stack, started as a user starts it (`ponto local ...` in a subprocess), for e2e tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg2
import pytest

from ponto.local.sqs import sqs_client
from ponto.local.stack import free_port
from ponto.local.state import LocalState, new_api_key
from ponto.local.status import Status, collect

READY = "ponto local ready:"


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    data_dir: Path
    port: int
    api_key: str
    output: list[str] = field(default_factory=list)

    @property
    def state(self) -> LocalState:
        return LocalState.load(self.data_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/punches"

    def pid(self, name: str) -> int:
        return int((self.data_dir / "pids" / f"{name}.pid").read_text())

    def pids(self) -> dict[str, int]:
        return {path.stem: int(path.read_text()) for path in (self.data_dir / "pids").glob("*.pid")}

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = psycopg2.connect(self.state.database_url, connect_timeout=5)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall()
        finally:
            conn.close()

    def status(self) -> Status:
        state = self.state
        client = sqs_client(state.sqs_endpoint, state.region, timeout_s=5)
        return collect(client, state.queue_url, state.dlq_url, state.database_url, state.gateway_url)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ponto.cli", *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def start_stack(
    data_dir: Path, *, database_url: str | None = None, visibility_timeout: int = 5, cwd: Path | None = None
) -> RunningStack:
    port, api_key = free_port(), new_api_key()
    argv = [sys.executable, "-m", "ponto.cli", "local", "--port", str(port), f"--api-key={api_key}"]
    argv += ["--data-dir", str(data_dir), "--visibility-timeout", str(visibility_timeout)]
    if database_url:
        argv += ["--database-url", database_url]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=cwd
    )
    stack = RunningStack(process, data_dir, port, api_key)
    assert process.stdout is not None
    stdout = process.stdout

    def drain() -> None:
        for line in stdout:
            stack.output.append(line.rstrip())

    threading.Thread(target=drain, daemon=True).start()
    wait_for(lambda: any(READY in line for line in stack.output) or process.poll() is not None, 90, "the ready line")
    assert process.poll() is None, "\n".join(stack.output)
    return stack


def stop_stack(stack: RunningStack) -> None:
    """Ctrl-C as a terminal sends it (to the whole process group); nothing may be left running."""
    tracked = set(stack.pids().values())
    with contextlib.suppress(psutil.NoSuchProcess):
        tracked |= {child.pid for child in psutil.Process(stack.process.pid).children(recursive=True)}
    os.killpg(stack.process.pid, signal.SIGINT)
    try:
        code = stack.process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(stack.process.pid, signal.SIGKILL)
        raise AssertionError("ponto local did not stop within 30 s of Ctrl-C") from None
    assert code == 0, "\n".join(stack.output[-30:])
    deadline = time.monotonic() + 5
    alive = tracked
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in tracked if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"}
        time.sleep(0.2)
    assert not alive, f"processes left behind after Ctrl-C: {sorted(alive)}"
    assert not list((stack.data_dir / "pids").glob("*.pid"))


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A directory outside pytest's base temp, whose permissions a concurrent pytest run may reset:
    PostgreSQL runs as another user (pgserver, when tests run as root) and must keep access."""
    path = Path(tempfile.mkdtemp(prefix="ponto-e2e-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def scratch() -> Iterator[Path]:
    with scratch_dir() as path:
        yield path


@pytest.fixture(scope="module")
def local_stack() -> Iterator[RunningStack]:
    with scratch_dir() as path:
        stack = start_stack(path / "stack", cwd=path)  # started outside the repository, as a user may
        yield stack
        stop_stack(stack)


def socket_dir_of(database_url: str) -> str:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(database_url).query)
    return query["host"][0]


@pytest.fixture
def own_postgres(scratch: Path) -> Iterator[Any]:
    """A PostgreSQL the test can stop and start (the stack gets it with --database-url)."""
    from ponto.local.stack import start_pgserver

    server = start_pgserver(scratch / "pg")
    yield server
    server.cleanup()


def restart_postgres(server: Any, down_s: float) -> None:
    """Stop the test's PostgreSQL (fast shutdown: sessions are cut), wait, start it again."""
    import pgserver

    pg_ctl = pgserver.pg_ctl  # type: ignore[attr-defined]
    data, user = server.pgdata, server.system_user
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=user)
    time.sleep(down_s)
    start = ["-w", "-o", '-h ""', "-o", f"-k {socket_dir_of(server.get_uri())}", "-l", str(server.log), "start"]
    pg_ctl(start, pgdata=data, user=user)
