"""ID tokens checked as API Gateway's Cognito authorizer checks them (signature, issuer, client, expiry, use)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ponto.identity.tokens import CognitoAuthorizer, issuer, rsa_keys

NOW = 1_795_000_000
POOL = issuer("us-east-1", "us-east-1_local")
CLIENT = "web-clock-client"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": _b64(numbers.e.to_bytes(3, "big")),
    }  # fmt: skip


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def forger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: rsa.RSAPrivateKey, kid: str = "k1", alg: str = "RS256", **overrides: Any) -> str:
    claims = {
        "iss": POOL, "aud": CLIENT, "token_use": "id", "iat": NOW - 10, "exp": NOW + 3600,
        "sub": "u-1", "custom:employer": "12345678000195", "custom:employee_id": "7",
    }  # fmt: skip
    claims.update(overrides)
    signing_input = f"{_b64(json.dumps({'alg': alg, 'kid': kid}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
def authorizer(pool_key: rsa.RSAPrivateKey) -> CognitoAuthorizer:
    keys = rsa_keys({"keys": [_jwk(pool_key, "k1")]})
    return CognitoAuthorizer(POOL, frozenset({CLIENT}), keys, clock=lambda: NOW)


def test_a_valid_id_token_gives_its_claims_bare_or_bearer(authorizer: CognitoAuthorizer, pool_key: Any) -> None:
    good = token(pool_key)
    claims = authorizer.claims(good)
    assert claims is not None
    assert (claims["custom:employer"], claims["custom:employee_id"]) == ("12345678000195", "7")
    assert authorizer.claims(f"Bearer {good}") == claims


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": NOW},  # expired (exp is exclusive)
        {"exp": NOW - 1},
        {"iss": issuer("us-east-1", "us-east-1_other")},  # another pool
        {"aud": "another-client"},  # another app client
        {"token_use": "access"},  # an access token, not an ID token
        {"iat": NOW + 3600},  # issued an hour in the future
    ],
)
def test_a_token_that_is_not_for_this_api_is_refused(
    authorizer: CognitoAuthorizer, pool_key: Any, overrides: dict[str, Any]
) -> None:
    assert authorizer.claims(token(pool_key, **overrides)) is None


def test_forged_tampered_unsigned_or_missing_tokens_are_refused(
    authorizer: CognitoAuthorizer, pool_key: Any, forger_key: Any
) -> None:
    assert authorizer.claims(token(forger_key)) is None  # the pool's kid, another key
    assert authorizer.claims(token(pool_key, kid="k2")) is None  # an unknown key
    header, payload, signature = token(pool_key).split(".")
    other = json.loads(base64.urlsafe_b64decode(payload + "=="))
    other["custom:employee_id"] = "8"  # someone else, with the first one's signature
    tampered = f"{header}.{_b64(json.dumps(other).encode())}.{signature}"
    assert authorizer.claims(tampered) is None
    assert authorizer.claims(token(pool_key, alg="none")) is None
    for garbage in (None, "", "Bearer", "a.b", "a.b.c", "Bearer x.y.z"):
        assert authorizer.claims(garbage) is None


def test_an_unknown_kid_refreshes_the_keys_once(pool_key: Any, forger_key: Any) -> None:
    rotated = rsa_keys({"keys": [_jwk(pool_key, "k1"), _jwk(forger_key, "k2")]})
    calls = []

    def refresh() -> dict[str, Any]:
        calls.append(1)
        return rotated

    authorizer = CognitoAuthorizer(POOL, frozenset({CLIENT}), {}, clock=lambda: NOW, refresh=refresh)
    assert authorizer.claims(token(forger_key, kid="k2")) is not None
    assert calls == [1]
