"""What `ponto local` seeds unless --no-demo: a demo establishment in São Paulo (a CNPJ with valid check
digits; its state's and city's holidays count), employees 1..50 with valid CPFs and a weekday schedule
(so the timesheet and the AEJ work at once), and a browser device holding the stack's API key, so that
the first punch is recorded and sealed. Idempotent: a second start adds nothing."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2

from ponto.errors import InvalidInputError
from ponto.record import documents
from ponto.record import registry as rules
from ponto.store import registry

DEMO_EMPLOYEES = 50
# The REP-P's identity in the local stack's AFDs (configuration on AWS: PONTO_REP_INPI, PONTO_DEVELOPER_CNPJ).
DEMO_REP_INPI = "99999000000000001"
DEMO_SCHEDULE = "mon-fri 08:00-12:00 13:00-17:00"


def demo_cnpj() -> str:
    return documents.make_cnpj(12_345_678)


def developer_cnpj() -> str:
    return documents.make_cnpj(98_765_432)


def responsible_cpf() -> str:
    return documents.make_cpf(1)


@dataclass(frozen=True)
class DemoSeed:
    cnpj: str
    device_id: str
    employees_added: int


def seed(database_url: str, api_key_id: str) -> DemoSeed:
    conn = psycopg2.connect(database_url, application_name="ponto-demo")
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM establishments WHERE document = %s", (demo_cnpj(),))
            exists = cur.fetchone() is not None
        if not exists:
            registry.add_establishment(
                conn,
                rules.establishment(
                    cnpj=demo_cnpj(),
                    cpf=None,
                    name="Padaria Demonstração Ltda",
                    workplace="Rua das Flores, 100 - Centro, São Paulo - SP",
                    state="SP",
                    city="São Paulo",
                ),
                responsible_cpf(),
            )
        with conn, conn.cursor() as cur:
            establishment = registry.find_establishment(cur, demo_cnpj())
            assert establishment.establishment_id is not None
            registered = {e.employee_id for e in registry.list_employees(cur, establishment.establishment_id)}
            found = registry.device_for_key(cur, api_key_id)
        missing = [
            rules.employee(str(n), documents.make_cpf(1000 + n), f"Funcionário Demo {n}", DEMO_SCHEDULE)
            for n in range(1, DEMO_EMPLOYEES + 1)
            if str(n) not in registered
        ]
        if missing:
            registry.add_employees(conn, establishment, missing, responsible_cpf())
        if found is None:
            device = registry.add_device(conn, establishment, "browser", "Demo web clock", api_key_id)
            device_id = device.device_id
        elif found[1] != establishment.establishment_id:
            raise InvalidInputError("the stack's API key belongs to a device of another establishment")
        else:
            device_id = found[0].device_id
        return DemoSeed(demo_cnpj(), device_id, len(missing))
    finally:
        conn.close()
