"""ID tokens checked as API Gateway's Cognito user pool authorizer checks them.

A token passes when it is a compact JWS signed RS256 by a key of the pool's JWKS (by `kid`), its
issuer is the pool, its audience is an app client of the pool, `token_use` is `id`, and it has not
expired (nor is it issued in the future, beyond a small skew). Then its claims are what the
integration sees as $context.authorizer.claims. Anything else is 401, with no reason given (the
client signs in again); the reason is logged, without the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

logger = logging.getLogger("ponto.identity")

CLOCK_SKEW_S = 60  # a token issued this far in the future still passes (clocks differ a little)


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _integer(value: str) -> int:
    return int.from_bytes(_b64(value), "big")


def rsa_keys(jwks: Mapping[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    """The RS256 signing keys of a JWKS document, by kid."""
    keys = {}
    for key in jwks.get("keys", []):
        if key.get("kty") == "RSA" and key.get("use", "sig") == "sig" and "kid" in key:
            keys[str(key["kid"])] = rsa.RSAPublicNumbers(_integer(key["e"]), _integer(key["n"])).public_key()
    return keys


class TokenRefused(Exception):
    """Why a token does not pass (logged; never told to the client)."""


@dataclass
class CognitoAuthorizer:
    issuer: str  # https://cognito-idp.<region>.amazonaws.com/<pool id>
    client_ids: frozenset[str]
    keys: dict[str, rsa.RSAPublicKey]
    clock: Callable[[], float] = time.time
    refresh: Callable[[], dict[str, rsa.RSAPublicKey]] | None = field(default=None, repr=False)

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The token's claims, or None (API Gateway's 401)."""
        try:
            return self.verify(_token(authorization))
        except TokenRefused as exc:
            logger.info("token refused: %s", exc)
            return None

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            header = json.loads(_b64(header_b64))
            claims = json.loads(_b64(payload_b64))
            signature = _b64(signature_b64)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise TokenRefused("not a compact JWS") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise TokenRefused("not a compact JWS")
        if header.get("alg") != "RS256":
            raise TokenRefused("algorithm is not RS256")
        key = self._key(str(header.get("kid")))
        try:
            key.verify(signature, f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise TokenRefused("signature does not verify") from exc
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise TokenRefused("issued by another pool")
        if claims.get("token_use") != "id":
            raise TokenRefused("not an ID token")
        if claims.get("aud") not in self.client_ids:
            raise TokenRefused("for another app client")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or exp <= now:
            raise TokenRefused("expired")
        if isinstance(iat, int | float) and iat > now + CLOCK_SKEW_S:
            raise TokenRefused("issued in the future")
        return claims

    def _key(self, kid: str) -> rsa.RSAPublicKey:
        key = self.keys.get(kid)
        if key is None and self.refresh is not None:
            self.keys = self.refresh()  # the pool rotated its keys
            key = self.keys.get(kid)
        if key is None:
            raise TokenRefused("signed by an unknown key")
        return key


def _token(authorization: str | None) -> str:
    if not authorization:
        raise TokenRefused("no token")
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else authorization.strip()


def issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
