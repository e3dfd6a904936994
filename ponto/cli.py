"""The `ponto` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ponto import migrations
from ponto.config import UrlDatabase, database_from_env
from ponto.errors import PontoError
from ponto.store import connector


def cmd_migrate(args: argparse.Namespace) -> int:
    database = UrlDatabase(args.database_url) if args.database_url else database_from_env(os.environ)
    conn = connector(database, application_name="ponto-migrate")()
    try:
        applied = migrations.apply(conn)
    finally:
        conn.close()
    current = migrations.available()[-1].version
    print(f"applied: {', '.join(applied) or 'nothing (up to date)'}; schema at {current}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ponto", description="Ponto, a storage-first punch clock.")
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="apply the SQL migrations to the database")
    migrate.add_argument(
        "--database-url",
        help="libpq URI; default: PONTO_DATABASE_URL, the managed secret settings, or rds_config.py",
    )
    migrate.set_defaults(run=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except PontoError as exc:
        print(f"ponto {args.command}: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
