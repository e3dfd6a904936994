"""Who punches and who reads, end to end on `ponto local`: kiosk keys scoped to their establishment,
employees signed in to the local user pool (moto's Cognito-compatible server) punching as themselves."""

from __future__ import annotations

import base64
import gzip
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from importlib import resources
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ponto import aws_cognito
from ponto.record import documents
from tests.e2e.conftest import RunningStack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEMO = "12345678000195"
OTHER_CNPJ = documents.make_cnpj(77_888_999)
RESPONSIBLE = documents.make_cpf(3)


def call(stack: RunningStack, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{stack.port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def cli_json(stack: RunningStack, *args: str) -> Any:
    done = stack.cli(*args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def sign_in(stack: RunningStack, employee_id: str) -> str:
    """Invite the demo employee, sign in with the first password, set a new one: their ID token."""
    invited = cli_json(stack, "employee", "invite", "--employer", DEMO, "--id", employee_id)
    state = stack.state
    cognito = aws_cognito.client(state.cognito_endpoint, state.region)
    client_id = state.user_pool_client_id
    first = cognito.initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
        AuthParameters={"USERNAME": invited["username"], "PASSWORD": invited["first_password"]},
    )  # fmt: skip
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=first["Session"],
        ChallengeResponses={"USERNAME": invited["username"], "NEW_PASSWORD": "Segredo12345"},
    )  # fmt: skip
    return str(done["AuthenticationResult"]["IdToken"])


def punch(employee_id: str) -> dict[str, Any]:
    now = datetime.now().astimezone().replace(microsecond=0).isoformat()
    return {"punch_id": str(uuid.uuid4()), "employee_id": employee_id, "punched_at": now, "kind": "in"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(token: str, key: rsa.RSAPrivateKey, **claims: Any) -> str:
    """The token's claims changed and signed again with `key`, under the token's own header."""
    header, payload, _ = token.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "==")) | claims
    signing_input = f"{header}.{_b64(json.dumps(changed).encode())}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


def moto_pool_key() -> rsa.RSAPrivateKey:
    """The local pool's own signing key: moto's published test key (so an expired token is well signed)."""
    packed = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    jwk = json.loads(gzip.decompress(packed))

    n, e, d = (int.from_bytes(base64.urlsafe_b64decode(jwk[name] + "=="), "big") for name in ("n", "e", "d"))
    p, q = rsa.rsa_recover_prime_factors(n, e, d)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n)
    )
    return numbers.private_key()


def sealed(stack: RunningStack, punch_id: str) -> bool:
    return bool(stack.sql("SELECT 1 FROM afd_records WHERE punch_id = %s", punch_id))


def test_personal_mode_tokens_and_identity(local_stack: RunningStack) -> None:
    stack = local_stack
    alice, bob = sign_in(stack, "7"), sign_in(stack, "8")
    # No token, a forged one, an expired one (signed by the pool's own key): 401 on every personal route
    forged = resigned(alice, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    expired = resigned(alice, moto_pool_key(), exp=int(time.time()) - 60)
    for token in (None, forged, expired, "Bearer not-a-token"):
        headers = {} if token is None else {"Authorization": token}
        assert call(stack, "POST", "/me/punches", punch("7"), **headers)[0] == 401
        assert call(stack, "GET", "/me/receipts", **headers)[0] == 401
    # The well-signed, unexpired token is taken, bare or as a Bearer token
    assert call(stack, "GET", "/me/receipts", Authorization=alice)[0] == 200
    mine, bobs, as_bob = punch("7"), punch("8"), punch("8")
    assert call(stack, "POST", "/me/punches", mine, Authorization=f"Bearer {alice}")[0] == 202
    assert call(stack, "POST", "/me/punches", bobs, Authorization=bob)[0] == 202
    # Alice's token naming Bob in the body: accepted at the edge, refused by the worker, never recorded
    assert call(stack, "POST", "/me/punches", as_bob, Authorization=alice)[0] == 202
    wait_for(lambda: sealed(stack, mine["punch_id"]) and sealed(stack, bobs["punch_id"]), 60, "the two seals")
    # Each reads their own receipt; Alice cannot read Bob's (404, as for a punch not sealed yet)
    status, receipt = call(stack, "GET", f"/me/punches/{mine['punch_id']}/receipt", Authorization=alice)
    assert status == 200 and receipt["employee"]["employee_id"] == "7"
    assert receipt["employer"]["document"] == DEMO
    assert call(stack, "GET", f"/me/punches/{bobs['punch_id']}/receipt", Authorization=alice)[0] == 404
    assert [r["punch_id"] for r in call(stack, "GET", "/me/receipts", Authorization=alice)[1]["receipts"]] == [
        mine["punch_id"]
    ]
    # The punch that named someone else reaches the dead-letter queue, unrecorded
    wait_for(lambda: (stack.status().dlq or 0) >= 1, 90, "the refused punch in the DLQ")
    assert stack.sql("SELECT count(*) FROM punches WHERE punch_id = %s", as_bob["punch_id"]) == [(0,)]


def test_a_kiosk_key_reads_only_its_own_establishments_receipts(local_stack: RunningStack) -> None:
    stack = local_stack
    cli_json(stack, "employer", "add", "--cnpj", OTHER_CNPJ, "--name", "Oficina Dois", "--workplace", "Av. B, 2",
             "--responsible-cpf", RESPONSIBLE)  # fmt: skip
    other_key = cli_json(stack, "device", "add", "--employer", OTHER_CNPJ, "--kind", "device")["api_key"]
    demo_punch = punch("12")
    assert call(stack, "POST", "/punches", demo_punch, x_api_key=stack.api_key)[0] == 202
    wait_for(lambda: sealed(stack, demo_punch["punch_id"]), 60, "the seal")
    path = f"/punches/{demo_punch['punch_id']}/receipt"
    assert call(stack, "GET", path, x_api_key=stack.api_key)[0] == 200
    assert call(stack, "GET", path, x_api_key=other_key)[0] == 404
    assert call(stack, "GET", "/employees/12/receipts", x_api_key=other_key)[0] == 404
    assert call(stack, "GET", path, x_api_key="not-a-key")[0] == 403
    assert call(stack, "GET", path)[0] == 403
    # A PDF, signed with the local test certificate
    request = urllib.request.Request(f"http://127.0.0.1:{stack.port}{path}")
    request.add_header("x-api-key", stack.api_key)
    request.add_header("Accept", "application/pdf")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read().startswith(b"%PDF-")
