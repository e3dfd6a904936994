"""What the record's commands share: the database they use, JSON output, the REP-P's identity."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from ponto.errors import ConfigError, PontoError
from ponto.record import registry as rules
from ponto.record.registry import Establishment
from ponto.store import registry

DATA_DIR_HELP = "the local stack's data directory (default: .ponto)"


def add_database_options(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    parser.add_argument("--database-url", help="libpq URI (env PONTO_DATABASE_URL; default: the local stack's)")
    parser.add_argument("--data-dir", type=Path, default=Path(".ponto"), help=DATA_DIR_HELP)
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON")


def database_url(args: argparse.Namespace) -> str:
    """--database-url, else PONTO_DATABASE_URL, else the running local stack's database."""
    url = getattr(args, "database_url", None) or os.environ.get("PONTO_DATABASE_URL")
    if url:
        return str(url)
    from ponto.local.state import LocalState

    return LocalState.load(args.data_dir).database_url


@contextlib.contextmanager
def connection(args: argparse.Namespace) -> Iterator[psycopg2.extensions.connection]:
    try:
        conn = psycopg2.connect(database_url(args), connect_timeout=10, application_name="ponto-cli")
    except psycopg2.OperationalError as exc:
        raise PontoError("cannot reach the database (is `ponto local` running, or is the URL right?)") from exc
    try:
        yield conn
    finally:
        conn.close()


def establishment_of(conn: psycopg2.extensions.connection, employer: str) -> Establishment:
    """The establishment an `--employer` CNPJ or CPF names (InvalidInputError when none)."""
    document = rules.employer_document(employer)
    with conn, conn.cursor() as cur:
        return registry.find_establishment(cur, document)


def local_state(args: argparse.Namespace) -> Any:
    """The local stack's state when there is one (demo REP identity, test certificate, key store)."""
    from ponto.local.state import LocalState

    with contextlib.suppress(ConfigError):
        return LocalState.load(args.data_dir)
    return None


def emit(args: argparse.Namespace, document: Any, text: str) -> None:
    print(json.dumps(document, ensure_ascii=False) if getattr(args, "json", False) else text)
