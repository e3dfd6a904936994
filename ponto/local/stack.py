"""`ponto local`: the whole pipeline on one machine, supervised in the foreground.

PostgreSQL (embedded pgserver unless a URL is given), the SQS-compatible queue server (unless an
endpoint is given), the gateway and the runner each run as their own process; their pids are in
<data-dir>/pids/. A gateway, runner or queue server that dies is started again.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psycopg2

from ponto import migrations
from ponto.errors import ConfigError, PontoError
from ponto.local import cognito, demo
from ponto.local import status as status_module
from ponto.local.gateway import api_key_id
from ponto.local.keys import add_key
from ponto.local.sqs import sqs_client
from ponto.local.state import CLOCK_DIR, LOCAL_REGION, LocalState, new_api_key, remove_pid, write_pid
from ponto.record import signing
from ponto.serverless_config import QueueSettings

logger = logging.getLogger("ponto.local")

QUEUE_NAME = "ponto-local-punches"
DLQ_NAME = "ponto-local-punches-dlq"
DLQ_RETENTION_S = 14 * 24 * 3600


@dataclass
class LocalOptions:
    port: int = 3000
    api_key: str | None = None
    database_url: str | None = None
    data_dir: Path = Path(".ponto")
    sqs_endpoint: str | None = None
    visibility_timeout_s: int | None = None  # local override of serverless.yml's, for tests and demos
    demo: bool = True  # seed the demo establishment, its employees and a device holding the API key
    throttle: bool = True  # the gateway applies serverless.yml's usage plan, as API Gateway does


@dataclass
class Child:
    """A component process: started, watched, restarted and stopped by the supervisor."""

    name: str
    argv: list[str]
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    _log: TextIO | None = field(default=None, repr=False)

    def start(self) -> None:
        log_path = self.data_dir / "logs" / f"{self.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            self._log = log_path.open("a", encoding="utf-8")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        write_pid(self.data_dir, self.name, self.process.pid)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, timeout_s: float = 5) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        remove_pid(self.data_dir, self.name)
        if self._log is not None:
            self._log.close()
            self._log = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if child is not None and child.exited():
            raise PontoError(f"{what}: the process exited (see {child.data_dir}/logs/{child.name}.log)")
        time.sleep(0.1)
    raise PontoError(f"{what}: not ready after {timeout_s:.0f} s")


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _healthy(url: str) -> bool:
    with (
        contextlib.suppress(OSError, ValueError),
        urllib.request.urlopen(f"{url}/health", timeout=1) as response,  # noqa: S310 - loopback
    ):
        return bool(json.load(response).get("status") == "ok")
    return False


def start_pgserver(pgdata: Path | str) -> Any:
    """pgserver's server for `pgdata` (started, stopped by its cleanup()), without the warning its
    dependency platformdirs prints on import where XDG_RUNTIME_DIR is unset (containers, CI, ssh)."""
    with warnings.catch_warnings():
        # Filtered, not worked around: platformdirs' fallback is a private 0700 folder, as good for pgserver's lock.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
    return pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[tuple[str, int | None]]:
    server = start_pgserver(data_dir / "pg")
    try:
        yield server.get_uri(), server.get_pid()
    finally:
        server.cleanup()


def migrate(database_url: str, timeout_s: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = psycopg2.connect(database_url, connect_timeout=3, application_name="ponto-migrate")
            break
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                raise PontoError("cannot reach the database to migrate it") from exc
            time.sleep(0.5)
    try:
        return migrations.apply(conn)
    finally:
        conn.close()


WORKER_ROLE = "ponto_worker"
READER_ROLE = "ponto_reader"


def worker_url(database_url: str) -> str | None:
    """The URL with the worker's role (migration 0003) instead of the owner, if that role can sign in
    there (the embedded server trusts local connections); else None: the worker uses the owner's URL."""
    return role_url(database_url, WORKER_ROLE)


def role_url(database_url: str, role: str) -> str | None:
    """The URL with `role` instead of the owner, if that role can sign in there; else None."""
    parts = urllib.parse.urlsplit(database_url)
    host = parts.hostname or ""
    netloc = f"{role}@{host}" + (f":{parts.port}" if parts.port else "")
    candidate = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    try:
        psycopg2.connect(candidate, connect_timeout=3, application_name="ponto-local").close()
    except psycopg2.Error:
        logger.warning("the %s role cannot sign in to the given database: the owner's URL serves it", role)
        return None
    return candidate


def create_queues(client: Any, settings: QueueSettings, visibility_timeout_s: int) -> tuple[str, str]:
    """The punches queue and its DLQ, with serverless.yml's redrive settings (idempotent)."""
    dlq_url = client.create_queue(QueueName=DLQ_NAME)["QueueUrl"]
    client.set_queue_attributes(QueueUrl=dlq_url, Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)})
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = client.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.max_receive_count)}
    client.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout_s)},
    )
    return queue_url, dlq_url


class Supervisor:
    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.data_dir = options.data_dir.resolve()
        self.children: dict[str, Child] = {}
        self.stopping = threading.Event()

    def _child(self, name: str, *module_args: str) -> Child:
        child = Child(name, [sys.executable, "-m", *module_args], self.data_dir)
        self.children[name] = child
        child.start()
        return child

    def run(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_pid(self.data_dir, "local", os.getpid())
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        with contextlib.ExitStack() as stack:
            stack.callback(remove_pid, self.data_dir, "local")
            stack.callback(self._stop_children)
            database_url = self.options.database_url
            if database_url is None:
                print("starting PostgreSQL (embedded) ...", flush=True)
                database_url, pg_pid = stack.enter_context(embedded_postgres(self.data_dir))
                if pg_pid is not None:
                    write_pid(self.data_dir, "postgres", pg_pid)
                stack.callback(remove_pid, self.data_dir, "postgres")
            applied = migrate(database_url)
            print(f"database migrated ({', '.join(applied) or 'up to date'})", flush=True)
            state = self._start_pipeline(database_url)
            if self.options.demo:
                seeded = demo.seed(database_url, state.api_key_id)
                print(
                    f"demo establishment {seeded.cnpj}: employees 1..{demo.DEMO_EMPLOYEES}"
                    f" ({seeded.employees_added} added now), browser device {seeded.device_id}",
                    flush=True,
                )
            print(f"ponto local ready: {state.gateway_url}", flush=True)
            device = "the demo device's" if self.options.demo else "no device's yet: punches stay unsealed"
            print(f"  api key: {state.api_key} ({device})", flush=True)
            if CLOCK_DIR.is_dir():
                link = setup_link(state.gateway_url, {"mode": "kiosk", "key": state.api_key})
                print(f"  web clock (kiosk, this device's key): {link}", flush=True)
                personal = {"mode": "personal", "cognito": {"endpoint": state.cognito_endpoint,
                            "region": state.region, "client_id": state.user_pool_client_id}}  # fmt: skip
                print(
                    f"  web clock (personal: employees sign in): {setup_link(state.gateway_url, personal)}", flush=True
                )
            print(f"  try: {_typed_ponto()} punch --employee 42 --wait --data-dir {self.options.data_dir}", flush=True)
            self._watch(state)
        print("ponto local stopped", flush=True)
        return 0

    def _start_pipeline(self, database_url: str) -> LocalState:
        settings = QueueSettings.from_serverless()
        endpoint = self.options.sqs_endpoint
        if endpoint is None:
            port = free_port()
            sqs = self._child(
                "sqs", "ponto.local.sqs_server", "--port", str(port), "--db", str(self.data_dir / "sqs.db")
            )
            wait_until(lambda: _port_open(port), 20, "queue server", sqs)
            endpoint = f"http://127.0.0.1:{port}"
        client = sqs_client(endpoint, LOCAL_REGION)
        visibility = self.options.visibility_timeout_s or settings.visibility_timeout_s
        queue_url, dlq_url = create_queues(client, settings, visibility)
        cognito_port = free_port()
        cognito_child = self._child("cognito", "moto.server", "-H", "127.0.0.1", "-p", str(cognito_port))
        wait_until(lambda: _port_open(cognito_port), 30, "user pool server", cognito_child)
        cognito_endpoint = f"http://127.0.0.1:{cognito_port}"
        pool_id, pool_client_id = cognito.create(cognito_endpoint, LOCAL_REGION, self.data_dir)
        api_key = self.options.api_key or self._previous_key() or new_api_key()
        add_key(self.data_dir, api_key)
        certificate, key = self._test_certificate()
        state = LocalState(
            gateway_url=f"http://127.0.0.1:{self.options.port}",
            api_key=api_key,
            api_key_id=api_key_id(api_key),
            sqs_endpoint=endpoint,
            queue_url=queue_url,
            dlq_url=dlq_url,
            database_url=database_url,
            worker_database_url=worker_url(database_url),
            reader_database_url=role_url(database_url, READER_ROLE),
            rep_inpi=demo.DEMO_REP_INPI,
            developer_cnpj=demo.developer_cnpj(),
            signing_certificate=str(certificate),
            signing_key=str(key),
            cognito_endpoint=cognito_endpoint,
            user_pool_id=pool_id,
            user_pool_client_id=pool_client_id,
        )
        state.save(self.data_dir)
        if _port_open(self.options.port):
            raise ConfigError(f"port {self.options.port} is already in use (choose another with --port)")
        gateway = self._child(
            "gateway",
            "ponto.local.gateway_server",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.options.port),
            *([] if self.options.throttle else ["--no-throttle"]),
        )
        wait_until(lambda: _healthy(state.gateway_url), 20, "gateway", gateway)
        self._child("runner", "ponto.local.runner", "--data-dir", str(self.data_dir))
        return state

    def _test_certificate(self) -> tuple[Path, Path]:
        """A self-signed certificate for the local stack's signatures (made once, kept in the data dir)."""
        folder = self.data_dir / "signing"
        certificate, key = folder / "certificate.pem", folder / "key.pem"
        if not (certificate.exists() and key.exists()):
            folder.mkdir(parents=True, exist_ok=True)
            identity = signing.self_signed_identity("Ponto local test signer")
            signing.write_identity(identity, certificate, key)
        return certificate, key

    def _previous_key(self) -> str | None:
        with contextlib.suppress(ConfigError):
            return LocalState.load(self.data_dir).api_key
        return None

    def _watch(self, state: LocalState) -> None:
        client = sqs_client(state.sqs_endpoint, state.region, timeout_s=3)
        interactive = sys.stdout.isatty()
        last_line = ""
        while not self.stopping.wait(1.0):
            for child in self.children.values():
                if child.exited() and not self.stopping.is_set():
                    code = child.process.returncode if child.process else None
                    child.restarts += 1
                    print(f"\n{child.name} exited (code {code}); restarting it", flush=True)
                    child.start()
            line = status_module.collect(
                client, state.queue_url, state.dlq_url, state.database_url, state.gateway_url
            ).line()
            if interactive:
                print(f"\r{line}   ", end="", flush=True)
            elif line != last_line:
                print(line, flush=True)
            last_line = line
        if interactive:
            print()

    def _stop_children(self) -> None:
        # The runner first (it finishes its invocations), then the gateway, then the queue server.
        for name in ("runner", "gateway", "sqs", "cognito"):
            child = self.children.get(name)
            if child is not None:
                child.stop(timeout_s=float(os.environ.get("PONTO_LOCAL_STOP_TIMEOUT", "8")))


def setup_link(clock_url: str, settings: dict[str, Any]) -> str:
    """The web clock's setup link: its settings as base64url JSON in the fragment (never sent to a server)."""
    encoded = base64.urlsafe_b64encode(json.dumps(settings, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{clock_url}/#setup={encoded}"


def ponto_command() -> str:
    """The `ponto` command beside this Python (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "ponto"
    return str(beside) if beside.exists() else "ponto"


def _typed_ponto() -> str:
    """How the user can type `ponto`: plain if that one is on PATH, else relative to here."""
    command = ponto_command()
    return "ponto" if shutil.which("ponto") == command else os.path.relpath(command)


def run_local(options: LocalOptions) -> int:
    return Supervisor(options).run()
