"""The local stack's user pool: moto's Cognito-compatible server (sign-in, tokens, JWKS) on loopback.

`ponto local` starts it, creates a pool and a web clock client shaped as serverless.yml's EmployeePool,
and re-creates the sign-ins `ponto employee invite` made (kept in <data-dir>/signins.json with their
first password, owner-readable only): the server keeps nothing across restarts, so after one an
employee signs in with the first password again. Its signing key is moto's published test key: this
pool is for trying Ponto on one machine, never for real sign-ins.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from ponto import aws_cognito
from ponto.identity.tokens import CognitoAuthorizer, issuer, rsa_keys

POOL_NAME = "ponto-local-employees"


def signins_path(data_dir: Path) -> Path:
    return data_dir / "signins.json"


def load_signins(data_dir: Path) -> dict[str, dict[str, str]]:
    with contextlib.suppress(OSError, ValueError):
        found: dict[str, dict[str, str]] = json.loads(signins_path(data_dir).read_text(encoding="utf-8"))
        return found
    return {}


def remember_signin(data_dir: Path, employer: str, employee_id: str, password: str) -> None:
    signins = load_signins(data_dir)
    signins[aws_cognito.username(employer, employee_id)] = {
        "employer": employer, "employee_id": employee_id, "password": password,
    }  # fmt: skip
    target = signins_path(data_dir)
    temporary = target.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(signins, handle, indent=2)
    temporary.replace(target)


def create(endpoint: str, region: str, data_dir: Path) -> tuple[str, str]:
    """The pool and its client, with every remembered sign-in back: (pool id, client id)."""
    cognito = aws_cognito.client(endpoint, region)
    pool_id, client_id = aws_cognito.create_pool(cognito, POOL_NAME)
    for signin in load_signins(data_dir).values():
        aws_cognito.invite(cognito, pool_id, signin["employer"], signin["employee_id"], signin["password"])
    return pool_id, client_id


def jwks(endpoint: str, pool_id: str) -> dict[str, Any]:
    url = f"{endpoint}/{pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the local pool, on loopback
        document: dict[str, Any] = json.loads(response.read())
        return document


def authorizer(endpoint: str, region: str, pool_id: str, client_id: str) -> CognitoAuthorizer:
    """API Gateway's Cognito authorizer for the local pool (its keys fetched now, again on an unknown kid)."""
    return CognitoAuthorizer(
        issuer(region, pool_id),
        frozenset({client_id}),
        rsa_keys(jwks(endpoint, pool_id)),
        refresh=lambda: rsa_keys(jwks(endpoint, pool_id)),
    )
