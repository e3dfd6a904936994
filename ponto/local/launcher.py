"""Starting and stopping `ponto local` as a child process (the load test and the ingest bench)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ponto.local.stack import free_port

if TYPE_CHECKING:
    from ponto.local.state import LocalState

READY = re.compile(r"ponto local ready: (https?://\S+)")


class StackError(RuntimeError):
    """The local stack did not start."""


def health_ok(base_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class LocalStack:
    """`ponto local` as a child process, its output copied to a log file."""

    def __init__(
        self,
        ponto: str,
        data_dir: Path,
        api_key: str,
        log_path: Path,
        database_url: str | None = None,
        port: int | None = None,
        throttle: bool = True,
    ) -> None:
        self.ponto = ponto
        self.data_dir = data_dir
        self.api_key = api_key
        self.log_path = log_path
        self.database_url = database_url
        self.throttle = throttle
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self._ready_url: str | None = None
        self._ready = threading.Event()
        self._pump: threading.Thread | None = None

    def command(self) -> list[str]:
        command = [
            self.ponto,
            "local",
            "--port",
            str(self.port),
            f"--api-key={self.api_key}",  # the = form: a key may start with "-"
            "--data-dir",
            str(self.data_dir),
        ]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if not self.throttle:
            command.append("--no-throttle")
        return command

    def start(self, timeout: float = 120.0) -> str:
        """Start and wait until ready; returns the base URL (http://127.0.0.1:<port>)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            self.process = subprocess.Popen(  # noqa: S603
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                env=env,
                start_new_session=True,  # our Ctrl-C is not its Ctrl-C: we stop it ourselves
            )
        except OSError as exc:
            log.close()
            raise StackError(f"cannot start {self.ponto} local: {exc}") from exc
        assert self.process.stdout is not None
        self._pump = threading.Thread(target=self._copy_output, args=(self.process.stdout, log), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.5) or health_ok(self.base_url, timeout=0.5):
                return self._ready_url or self.base_url
            if self.process.poll() is not None:
                self._pump.join(2)
                raise StackError(
                    f"ponto local exited with {self.process.returncode} before it was ready; "
                    f"see {self.log_path}:\n{tail(self.log_path)}"
                )
        raise StackError(f"ponto local not ready after {timeout:.0f} s; see {self.log_path}")

    def _copy_output(self, stream: IO[str], log: IO[str]) -> None:
        with log:
            for line in stream:
                log.write(line)
                log.flush()
                match = READY.search(line)
                if match and not self._ready.is_set():
                    self._ready_url = match.group(1).rstrip("/")
                    self._ready.set()

    def local_database_url(self, timeout: float = 10.0) -> str | None:
        """The database URL `ponto local` wrote to <data-dir>/local.json (key database_url)."""
        path = self.data_dir / "local.json"
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = json.loads(path.read_text()).get("database_url")
                return str(value) if value else None
            except (OSError, ValueError):
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.25)

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGINT to its own pid, SIGKILL after `grace` seconds; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGINT)
                process.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
            except ProcessLookupError:
                pass
        if self._pump is not None:
            self._pump.join(5)
        return process.returncode


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def on_a_local_stack[T](data_dir: Path | None, prefix: str, measure: Callable[[LocalState], T]) -> T:
    """`measure` on the running stack of `data_dir`, else on a stack started for it in a temporary folder
    (without the usage plan's throttle: one key stands for many clocks there) and stopped afterwards."""
    from ponto.local.stack import ponto_command
    from ponto.local.state import LocalState, new_api_key

    if data_dir is not None:
        return measure(LocalState.load(data_dir))
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        stack_dir = Path(scratch) / "stack"
        stack = LocalStack(ponto_command(), stack_dir, new_api_key(), Path(scratch) / "stack.log", throttle=False)
        stack.start()
        try:
            return measure(LocalState.load(stack_dir))
        finally:
            stack.stop()
