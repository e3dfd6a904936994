"""`ponto employee invite`: an employee's sign-in for the web clock's personal mode."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ponto import aws_cognito
from ponto.commands.common import add_database_options, connection, emit, establishment_of, local_state
from ponto.errors import ConfigError
from ponto.store import registry

PERSONAL_DEVICE = "web clock, personal mode (employees signed in)"


def personal_key_id(employer: str) -> str:
    """What the personal route's mapping template puts in apiKeyId: the establishment's personal clock."""
    return f"personal:{employer}"


def cmd_employee_invite(args: argparse.Namespace) -> int:
    with connection(args) as conn:
        establishment = establishment_of(conn, args.employer)
        assert establishment.establishment_id is not None
        with conn, conn.cursor() as cur:
            registry.find_employee(cur, establishment.establishment_id, args.id)
            # Personal punches come through the establishment's personal clock: a device of kind
            # browser whose key id is the one the personal route's mapping template writes.
            known = registry.device_for_key(cur, personal_key_id(establishment.document))
        if known is None:
            registry.add_device(
                conn, establishment, "browser", PERSONAL_DEVICE, personal_key_id(establishment.document)
            )
    pool_id = args.user_pool_id or os.environ.get("PONTO_USER_POOL_ID")
    state = None if pool_id else local_state(args)
    if pool_id:
        endpoint, region = None, args.region or os.environ.get("AWS_REGION")
    elif state is not None and state.user_pool_id:
        pool_id, endpoint, region = state.user_pool_id, state.cognito_endpoint, state.region
    else:
        raise ConfigError("no user pool: give --user-pool-id (PONTO_USER_POOL_ID), or run `ponto local`")
    password = aws_cognito.first_password()
    cognito = aws_cognito.client(endpoint, region or "us-east-1")
    name = aws_cognito.invite(cognito, pool_id, establishment.document, args.id, password)
    if state is not None:
        from ponto.local import cognito as local_cognito

        local_cognito.remember_signin(args.data_dir, establishment.document, args.id, password)
    emit(
        args,
        {"employee_id": args.id, "username": name, "first_password": password},
        f"employee {args.id} can sign in to the web clock (personal mode)\n"
        f"  user name: {name}\n  first password (changed at the first sign-in): {password}",
    )
    return 0


def add_employee_actions(actions: Any) -> None:
    invite = actions.add_parser(
        "invite", help="create an employee's sign-in for the web clock's personal mode; prints a first password"
    )
    invite.add_argument("--employer", required=True)
    invite.add_argument("--id", required=True, help="the employee id")
    invite.add_argument("--user-pool-id", help="the employees' Cognito user pool (env PONTO_USER_POOL_ID)")
    invite.add_argument("--region", help="its AWS region (env AWS_REGION)")
    add_database_options(invite)
    invite.set_defaults(run=cmd_employee_invite)
