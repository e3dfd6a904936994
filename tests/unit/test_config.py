"""Reading the configuration from the environment."""

import sys
import types

import pytest

from ponto.config import (
    IamDatabase,
    RdsConfigDatabase,
    SecretDatabase,
    Settings,
    UrlDatabase,
    database_from_env,
    rds_config_database,
)
from ponto.errors import ConfigError


def test_the_url_wins() -> None:
    env = {"PONTO_DATABASE_URL": "postgresql://u@h/db", "PONTO_DB_SECRET_ARN": "arn"}
    assert database_from_env(env) == UrlDatabase("postgresql://u@h/db")


def test_the_managed_secret_needs_host_and_name() -> None:
    env = {"PONTO_DB_SECRET_ARN": "arn:secret", "PONTO_DB_HOST": "h", "PONTO_DB_NAME": "ponto"}
    assert database_from_env(env) == SecretDatabase("arn:secret", "h", 5432, "ponto", "require")
    with pytest.raises(ConfigError, match="PONTO_DB_HOST"):
        database_from_env({"PONTO_DB_SECRET_ARN": "arn:secret", "PONTO_DB_NAME": "ponto"})


def test_rds_config_module_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("rds_config")
    for name, value in {"db_host": "h", "db_port": 5433, "db_username": "u", "db_password": "p",
                        "db_name": "d"}.items():  # fmt: skip
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, "rds_config", module)
    assert database_from_env({}) == RdsConfigDatabase("h", 5433, "u", "p", "d")


def test_rds_config_with_a_missing_field_is_an_error() -> None:
    module = types.ModuleType("rds_config")
    module.db_host = "h"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="db_port"):
        rds_config_database(module)


def test_nothing_configured_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rds_config", None)  # makes `import rds_config` fail
    with pytest.raises(ConfigError, match="PONTO_DATABASE_URL"):
        database_from_env({})


def test_timezone_defaults_to_sao_paulo_and_rejects_unknown_zones() -> None:
    settings = Settings.from_env({"PONTO_DATABASE_URL": "postgresql:///x"})
    assert settings.timezone.key == "America/Sao_Paulo"
    with pytest.raises(ConfigError, match="Mars"):
        Settings.from_env({"PONTO_DATABASE_URL": "postgresql:///x", "PONTO_TIMEZONE": "Mars/Base"})


def test_bad_port_is_an_error() -> None:
    env = {"PONTO_DB_SECRET_ARN": "a", "PONTO_DB_HOST": "h", "PONTO_DB_NAME": "d", "PONTO_DB_PORT": "x"}
    with pytest.raises(ConfigError, match="port"):
        database_from_env(env)


def test_the_rds_ca_bundle_reaches_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    """PONTO_DB_SSLROOTCERT: the CA bundle that sslmode=verify-full checks the cluster's certificate against."""
    import psycopg2

    import ponto.aws_secrets
    import ponto.store

    base = {"PONTO_DB_HOST": "h", "PONTO_DB_NAME": "ponto", "PONTO_DB_SSLMODE": "verify-full"}
    bundle = "/var/task/rds-ca/global-bundle.pem"
    iam = database_from_env({**base, "PONTO_DB_IAM_USER": "ponto_worker", "PONTO_DB_SSLROOTCERT": bundle})
    secret = database_from_env({**base, "PONTO_DB_SECRET_ARN": "arn:secret", "PONTO_DB_SSLROOTCERT": bundle})
    assert isinstance(iam, IamDatabase) and isinstance(secret, SecretDatabase)
    assert (iam.sslrootcert, iam.sslmode) == (bundle, "verify-full")
    assert (secret.sslrootcert, secret.sslmode) == (bundle, "verify-full")
    unset = database_from_env({**base, "PONTO_DB_IAM_USER": "u", "PONTO_DB_SSLROOTCERT": ""})
    assert isinstance(unset, IamDatabase) and unset.sslrootcert is None  # empty (the stack's default): none

    seen: list[dict[str, object]] = []
    monkeypatch.setattr(psycopg2, "connect", lambda *a, **kw: seen.append(kw))
    monkeypatch.setattr(ponto.aws_secrets, "iam_auth_token", lambda database: "token")
    monkeypatch.setattr(ponto.aws_secrets, "database_credentials", lambda arn: ("admin", "pw"))
    ponto.store._open(iam, {})
    ponto.store._open(secret, {})
    assert [(kw["sslmode"], kw["sslrootcert"]) for kw in seen] == [("verify-full", bundle)] * 2
