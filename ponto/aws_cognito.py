"""AWS adapter: the employees' Cognito user pool (on AWS, or the local stack's Cognito-compatible server).

An employee's sign-in is a pool user whose custom attributes say who they are: `custom:employer` (the
establishment's CNPJ or CPF) and `custom:employee_id`. The ID token carries both; API Gateway's Cognito
authorizer hands them to the mapping template, which puts them on the punch's message.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from ponto.errors import InvalidInputError, PontoError

EMPLOYER = "custom:employer"
EMPLOYEE_ID = "custom:employee_id"
POOL_SCHEMA = [
    {"Name": "employer", "AttributeDataType": "String", "Mutable": False,
     "StringAttributeConstraints": {"MinLength": "11", "MaxLength": "14"}},
    {"Name": "employee_id", "AttributeDataType": "String", "Mutable": False,
     "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}},
]  # fmt: skip
CLIENT_AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def username(employer: str, employee_id: str) -> str:
    """The sign-in name: unique in the pool although employee ids repeat across establishments."""
    return f"{employer}-{employee_id}"


def first_password() -> str:
    """A temporary password the pool's policy takes (10+ characters, lower, upper case and digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def client(endpoint: str | None, region: str) -> Any:
    """A boto3 cognito-idp client; a loopback endpoint (the local pool) gets dummy credentials."""
    import boto3

    local = endpoint is not None and endpoint.startswith(("http://127.", "http://localhost"))
    credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"} if local else {}
    return boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint, **credentials)


def create_pool(cognito: Any, name: str) -> tuple[str, str]:
    """A pool like serverless.yml's EmployeePool and its web clock client: (pool id, client id)."""
    pool = cognito.create_user_pool(
        PoolName=name,
        Schema=POOL_SCHEMA,
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireUppercase": False, "RequireSymbols": False}},
    )["UserPool"]  # fmt: skip
    app = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web-clock", GenerateSecret=False, ExplicitAuthFlows=CLIENT_AUTH_FLOWS
    )["UserPoolClient"]
    return str(pool["Id"]), str(app["ClientId"])


def invite(cognito: Any, pool_id: str, employer: str, employee_id: str, password: str) -> str:
    """Create the employee's sign-in with a first password they must change; return the user name."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = username(employer, employee_id)
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=name,
            UserAttributes=[{"Name": EMPLOYER, "Value": employer}, {"Name": EMPLOYEE_ID, "Value": employee_id}],
            TemporaryPassword=password,
            MessageAction="SUPPRESS",  # the operator hands the first password over; no e-mail
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "UsernameExistsException":
            raise InvalidInputError(f"employee {employee_id} already has a sign-in") from None
        raise PontoError("the user pool refused the sign-in (check the pool id and the credentials)") from None
    except BotoCoreError:
        raise PontoError("cannot reach the user pool") from None
    return name
