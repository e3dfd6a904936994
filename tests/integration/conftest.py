"""A real PostgreSQL for the integration tier: pgserver in a temporary directory.

Set PONTO_TEST_DATABASE_URL to run the tier against another server instead (its `punches` table
is truncated between tests).
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg2
import pytest

from ponto import migrations
from ponto.serverless_config import function_handler


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    given = os.environ.get("PONTO_TEST_DATABASE_URL")
    if given:
        yield given
        return
    from ponto.local.stack import start_pgserver

    # Outside pytest's base temp: a concurrent pytest run resets its permissions, and PostgreSQL runs
    # as another user (pgserver) when the tests run as root.
    data = Path(tempfile.mkdtemp(prefix="ponto-test-pg-"))
    server = start_pgserver(data)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    conn = psycopg2.connect(database_url)
    try:
        migrations.apply(conn)
    finally:
        conn.close()
    return database_url


RECORD_TABLES = "punches, afd_records, devices, employees, record_heads, establishments, holidays, punch_treatments"


def reset_record(conn: Any) -> None:
    """Empty the record and the registry. The record's triggers refuse TRUNCATE for everyone: a test
    database is reset as a superuser with triggers off (session_replication_role = replica)."""
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute(f"TRUNCATE {RECORD_TABLES} RESTART IDENTITY")
        cur.execute("RESET session_replication_role")


@pytest.fixture
def db(migrated: str) -> Iterator[Any]:
    """An autocommit connection to the migrated database, with an empty record and registry."""
    conn = psycopg2.connect(migrated)
    conn.autocommit = True
    reset_record(conn)
    yield conn
    conn.close()


def import_handler(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Import, fresh, the handler serverless.yml names for function `name`, under `env`."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path, _, attribute = function_handler(name).rpartition(".")
    module_name = path.replace("/", ".")
    sys.modules.pop(module_name, None)
    module: ModuleType = importlib.import_module(module_name)
    handler: Callable[..., Any] = getattr(module, attribute)
    return handler


@pytest.fixture
def worker_env(migrated: str) -> dict[str, str]:
    return {
        "PONTO_DATABASE_URL": migrated,
        "POWERTOOLS_SERVICE_NAME": "ponto",
        "POWERTOOLS_METRICS_NAMESPACE": "PontoTest",
        "PONTO_TIMEZONE": "America/Sao_Paulo",
    }


@pytest.fixture
def worker(worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, db: Any) -> Iterator[Callable[..., Any]]:
    handler = import_handler("worker", worker_env, monkeypatch)
    yield handler
    sys.modules[handler.__module__].store.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
