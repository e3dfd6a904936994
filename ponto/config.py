"""Configuration, read once from the environment into typed objects and passed down."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ponto.errors import ConfigError

DEFAULT_TIMEZONE = "America/Sao_Paulo"
DEFAULT_METRICS_NAMESPACE = "Ponto"
DEFAULT_SERVICE = "ponto"


@dataclass(frozen=True)
class UrlDatabase:
    """A libpq connection URI (``PONTO_DATABASE_URL``)."""

    url: str


@dataclass(frozen=True)
class SecretDatabase:
    """Aurora with its RDS-managed master secret: the secret holds username and password."""

    secret_arn: str
    host: str
    port: int
    dbname: str
    sslmode: str
    sslrootcert: str | None = None  # CA bundle that verify-ca / verify-full check the server against


@dataclass(frozen=True)
class IamDatabase:
    """Aurora with IAM database authentication: a role of its own (the worker's ponto_worker), whose
    password is a short-lived token signed with the function's credentials; TLS is required."""

    user: str
    host: str
    port: int
    dbname: str
    sslmode: str
    region: str | None
    sslrootcert: str | None = None  # CA bundle that verify-ca / verify-full check the server against


@dataclass(frozen=True)
class RdsConfigDatabase:
    """The reference project's ``rds_config.py`` module (see rds_config.example.py)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


DatabaseConfig = UrlDatabase | IamDatabase | SecretDatabase | RdsConfigDatabase


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig
    timezone: ZoneInfo
    service: str
    metrics_namespace: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            database=database_from_env(env),
            timezone=timezone_from_env(env),
            service=env.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
        )


def timezone_from_env(env: Mapping[str, str]) -> ZoneInfo:
    name = env.get("PONTO_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"PONTO_TIMEZONE={name!r} is not a known IANA time zone") from exc


def database_from_env(env: Mapping[str, str]) -> DatabaseConfig:
    """PONTO_DATABASE_URL, else IAM authentication as PONTO_DB_IAM_USER (the worker on AWS), else the
    managed master secret (migrate on AWS), else rds_config.py."""
    url = env.get("PONTO_DATABASE_URL")
    if url:
        return UrlDatabase(url)
    iam_user = env.get("PONTO_DB_IAM_USER")
    if iam_user:
        missing = [name for name in ("PONTO_DB_HOST", "PONTO_DB_NAME") if not env.get(name)]
        if missing:
            raise ConfigError(f"PONTO_DB_IAM_USER is set but {', '.join(missing)} is not")
        sslmode = env.get("PONTO_DB_SSLMODE") or "require"
        if sslmode in ("disable", "allow", "prefer"):
            raise ConfigError("IAM database authentication needs TLS: PONTO_DB_SSLMODE must be require or stricter")
        return IamDatabase(
            user=iam_user,
            host=env["PONTO_DB_HOST"],
            port=_port(env.get("PONTO_DB_PORT") or "5432"),
            dbname=env["PONTO_DB_NAME"],
            sslmode=sslmode,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            sslrootcert=env.get("PONTO_DB_SSLROOTCERT") or None,
        )
    secret_arn = env.get("PONTO_DB_SECRET_ARN")
    if secret_arn:
        missing = [name for name in ("PONTO_DB_HOST", "PONTO_DB_NAME") if not env.get(name)]
        if missing:
            raise ConfigError(f"PONTO_DB_SECRET_ARN is set but {', '.join(missing)} is not")
        return SecretDatabase(
            secret_arn=secret_arn,
            host=env["PONTO_DB_HOST"],
            port=_port(env.get("PONTO_DB_PORT") or "5432"),
            dbname=env["PONTO_DB_NAME"],
            sslmode=env.get("PONTO_DB_SSLMODE") or "require",
            sslrootcert=env.get("PONTO_DB_SSLROOTCERT") or None,
        )
    try:
        return rds_config_database(importlib.import_module("rds_config"))
    except ModuleNotFoundError as exc:
        if exc.name != "rds_config":
            raise
    raise ConfigError(
        "no database configured: set PONTO_DATABASE_URL, or PONTO_DB_SECRET_ARN with PONTO_DB_HOST "
        "and PONTO_DB_NAME, or provide rds_config.py (see rds_config.example.py)"
    )


def rds_config_database(module: Any) -> RdsConfigDatabase:
    fields = ("db_host", "db_port", "db_username", "db_password", "db_name")
    missing = [name for name in fields if not hasattr(module, name)]
    if missing:
        raise ConfigError(f"rds_config.py lacks {', '.join(missing)}")
    return RdsConfigDatabase(
        host=str(module.db_host),
        port=_port(str(module.db_port)),
        user=str(module.db_username),
        password=str(module.db_password),
        dbname=str(module.db_name),
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(f"database port {text!r} is not a TCP port")
    return port
