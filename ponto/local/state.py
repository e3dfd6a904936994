"""What a running local stack tells the other commands: ``<data-dir>/local.json`` and the pid files."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ponto.errors import ConfigError
from ponto.serverless_config import SERVERLESS_YML

DEFAULT_DATA_DIR = Path(".ponto")
LOCAL_REGION = "us-east-1"
CLOCK_DIR = SERVERLESS_YML.parent / "clock"  # the web clock's static files, served at / by the local gateway


def new_api_key() -> str:
    """A random API key that is safe to paste after ``--api-key``: hex, so it never starts with ``-``."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class LocalState:
    gateway_url: str
    api_key: str
    api_key_id: str
    sqs_endpoint: str
    queue_url: str
    dlq_url: str
    database_url: str
    region: str = LOCAL_REGION
    # The worker's own, least-privileged role (ponto_worker); the owner's URL when it cannot sign in.
    worker_database_url: str | None = None
    # The read function's role (ponto_reader: SELECT only); the owner's URL when it cannot sign in.
    reader_database_url: str | None = None
    # The REP-P's identity for the AFD header (demo values locally) and the test signing certificate.
    rep_inpi: str | None = None
    developer_cnpj: str | None = None
    signing_certificate: str | None = None
    signing_key: str | None = None
    # The employees' user pool (personal mode): moto's Cognito-compatible server on loopback.
    cognito_endpoint: str | None = None
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None

    @staticmethod
    def path(data_dir: Path) -> Path:
        return data_dir / "local.json"

    def save(self, data_dir: Path) -> None:
        target = self.path(data_dir)
        temporary = target.with_suffix(".tmp")
        # The file holds the local API key: readable by its owner only.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        temporary.replace(target)

    @classmethod
    def load(cls, data_dir: Path) -> LocalState:
        try:
            data: dict[str, Any] = json.loads(cls.path(data_dir).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"no local stack found in {data_dir}/ (start one with `ponto local --data-dir {data_dir}`)"
            ) from exc


def pid_path(data_dir: Path, name: str) -> Path:
    return data_dir / "pids" / f"{name}.pid"


def write_pid(data_dir: Path, name: str, pid: int) -> None:
    path = pid_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n", encoding="utf-8")


def remove_pid(data_dir: Path, name: str) -> None:
    pid_path(data_dir, name).unlink(missing_ok=True)
