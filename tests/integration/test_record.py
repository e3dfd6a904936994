"""The legal record on a real PostgreSQL: the registry, sealing in the worker, append-only, verify."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.errors
import pytest

from ponto.cli import main
from ponto.config import UrlDatabase
from ponto.local import status
from ponto.local.gateway import api_key_id
from ponto.punch import parse_record
from ponto.record import afd, documents
from ponto.store import PunchStore, connector
from tests.events import LambdaContext, failed_ids, legacy_body, sqs_event, sqs_record, v1_body

pytestmark = pytest.mark.integration

CNPJ = documents.make_cnpj(11_222_333)
OTHER_CNPJ = documents.make_cnpj(44_555_666)
RESPONSIBLE = documents.make_cpf(7)
KEY = "kiosk-key-of-establishment-one"
OTHER_KEY = "kiosk-key-of-establishment-two"


def cli(url: str, *args: str) -> int:
    return main([*args, "--database-url", url])


@pytest.fixture
def registered(db: Any, migrated: str, tmp_path: Path) -> str:
    """Establishment CNPJ with employees e1..e5, a kiosk device holding KEY; OTHER_CNPJ with e1, OTHER_KEY."""
    for cnpj, key in ((CNPJ, KEY), (OTHER_CNPJ, OTHER_KEY)):
        assert (
            cli(
                migrated,
                "employer",
                "add",
                "--cnpj",
                cnpj,
                "--name",
                "Padaria São João",
                "--workplace",
                "Rua A, 1",
                "--responsible-cpf",
                RESPONSIBLE,
            )
            == 0
        )
        with db.cursor() as cur:
            cur.execute("SELECT establishment_id FROM establishments WHERE document = %s", (cnpj,))
            (establishment_id,) = cur.fetchone()
            cur.execute(
                "INSERT INTO devices (device_id, establishment_id, kind, name, api_key_id)"
                " VALUES (%s, %s, 'device', 'kiosk', %s)",
                (f"dev-{cnpj}", establishment_id, api_key_id(key)),
            )
    for n in range(1, 6):
        assert (
            cli(
                migrated,
                "employee",
                "add",
                "--employer",
                CNPJ,
                "--id",
                f"e{n}",
                "--cpf",
                documents.make_cpf(100 + n),
                "--name",
                f"Empregado {n}",
                "--responsible-cpf",
                RESPONSIBLE,
            )
            == 0
        )
    assert (
        cli(
            migrated,
            "employee",
            "add",
            "--employer",
            OTHER_CNPJ,
            "--id",
            "e1",
            "--cpf",
            documents.make_cpf(200),
            "--name",
            "Outro",
            "--responsible-cpf",
            RESPONSIBLE,
        )
        == 0
    )
    return migrated


def record(key: str, **body: Any) -> dict[str, Any]:
    return sqs_record(v1_body(**body), api_key_id=api_key_id(key))


def rows(db: Any, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with db.cursor() as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def seals(db: Any, cnpj: str) -> list[tuple[int, str, str]]:
    """(nsr, punch_id, line) of the establishment's punch records, in NSR order."""
    return rows(
        db,
        "SELECT r.nsr, r.punch_id, r.line FROM afd_records r JOIN establishments s USING (establishment_id)"
        " WHERE s.document = %s AND r.record_type = 7 ORDER BY r.nsr",
        cnpj,
    )


def nsrs(db: Any, cnpj: str) -> list[int]:
    return [
        n
        for (n,) in rows(
            db,
            "SELECT r.nsr FROM afd_records r JOIN establishments s USING (establishment_id)"
            " WHERE s.document = %s ORDER BY r.nsr",
            cnpj,
        )
    ]


def test_registry_records_take_nsrs_from_the_establishment(registered: str, db: Any) -> None:
    # Given the establishment (type 2) and five employees (type 5), when we read its record
    types = rows(
        db,
        "SELECT r.nsr, r.record_type, substr(r.line, 35, 1) FROM afd_records r"
        " JOIN establishments s USING (establishment_id) WHERE s.document = %s ORDER BY nsr",
        CNPJ,
    )
    # Then NSRs 1..6, type 2 then five inserts of type 5, each line with its NSR and a KERMIT CRC
    assert [(n, t) for n, t, _ in types] == [(1, 2), (2, 5), (3, 5), (4, 5), (5, 5), (6, 5)]
    assert [op for n, t, op in types if t == 5] == ["I"] * 5
    for nsr, line in rows(db, "SELECT nsr, line FROM afd_records WHERE record_type IN (2, 5)"):
        assert line[:9] == f"{nsr:09d}"
        assert f"{afd.crc16_kermit(line[:-4].encode('iso-8859-1')):04X}" == line[-4:]
    # The other establishment has its own sequence
    assert nsrs(db, OTHER_CNPJ) == [1, 2]


def test_worker_seals_a_punch_with_the_next_nsr_and_its_hash(
    registered: str, db: Any, worker: Callable[..., Any]
) -> None:
    # Given a punch of employee e1 from the kiosk of the establishment, taken offline
    event = sqs_event([record(KEY, employee_id="e1", punched_at="2026-11-24T08:01:59-03:00", offline=True)])
    # When the worker handles it
    assert failed_ids(worker(event, LambdaContext())) == set()
    # Then it is sealed with NSR 7 (after the registry's six records), per the recipe of REP-P.md
    ((nsr, _, line),) = seals(db, CNPJ)
    assert nsr == 7
    assert len(line) == 137
    assert line[:10] == "0000000077"
    assert line[10:34] == "2026-11-24T08:01:00-0300"  # seconds written 00
    assert line[34:46] == documents.make_cpf(101) + " "
    assert line[70:72] == "04"  # a 'device' collector
    assert line[72] == "1"  # offline
    assert line[73:] == hashlib.sha256(line[:73].encode("iso-8859-1")).hexdigest()  # the first punch: no predecessor
    head = rows(
        db,
        "SELECT last_nsr, last_hash FROM record_heads h JOIN establishments s USING (establishment_id)"
        " WHERE s.document = %s",
        CNPJ,
    )
    assert head == [(7, line[73:])]


def test_a_second_punch_chains_to_the_first(registered: str, db: Any, worker: Callable[..., Any]) -> None:
    worker(sqs_event([record(KEY, employee_id="e1"), record(KEY, employee_id="e2")]), LambdaContext())
    first, second = seals(db, CNPJ)
    assert second[0] == first[0] + 1
    expected = hashlib.sha256(second[2][:73].encode("iso-8859-1") + first[2][73:].encode()).hexdigest()
    assert second[2][73:] == expected


def test_duplicates_and_redeliveries_take_no_nsr(registered: str, db: Any, worker: Callable[..., Any]) -> None:
    punch = v1_body(employee_id="e3")
    first = sqs_record(punch, api_key_id=api_key_id(KEY))
    resend = sqs_record(punch, api_key_id=api_key_id(KEY))  # the clock resent it: same punch_id
    worker(sqs_event([first, resend]), LambdaContext())  # the same punch twice in one batch
    worker(sqs_event([first]), LambdaContext())  # a redelivery
    worker(sqs_event([resend, record(KEY, employee_id="e4")]), LambdaContext())  # a resend beside a new one
    assert [n for n, _, _ in seals(db, CNPJ)] == [7, 8]
    assert nsrs(db, CNPJ) == list(range(1, 9))


def test_punches_of_two_establishments_in_one_batch(registered: str, db: Any, worker: Callable[..., Any]) -> None:
    worker(
        sqs_event([record(KEY, employee_id="e1"), record(OTHER_KEY, employee_id="e1"), record(KEY, employee_id="e2")]),
        LambdaContext(),
    )
    assert [n for n, _, _ in seals(db, CNPJ)] == [7, 8]
    ((nsr, _, line),) = seals(db, OTHER_CNPJ)
    assert nsr == 3
    assert line[34:46] == documents.make_cpf(200) + " "  # e1 of the other establishment: its own employee


def test_unknown_device_or_employee_is_recorded_unsealed_then_sealed(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    unknown_employee = record(KEY, employee_id="new-hire")
    unknown_key = sqs_record(v1_body(employee_id="e1"), api_key_id="no-such-device")
    legacy = sqs_record(legacy_body(usuario_id=42), api_key_id=api_key_id(KEY))
    assert failed_ids(worker(sqs_event([unknown_employee, unknown_key, legacy]), LambdaContext())) == set()
    # Recorded, nothing lost, but no NSR
    assert rows(db, "SELECT count(*) FROM punches") == [(3,)]
    assert seals(db, CNPJ) == []
    assert status._database_counts(registered)[2] == 3  # what `ponto status` shows as unsealed
    # Registering the employees seals their pending punches, in recording order
    assert (
        cli(
            registered,
            "employee",
            "add",
            "--employer",
            CNPJ,
            "--id",
            "new-hire",
            "--cpf",
            documents.make_cpf(300),
            "--name",
            "Nova",
            "--responsible-cpf",
            RESPONSIBLE,
        )
        == 0
    )
    assert (
        cli(
            registered,
            "employee",
            "add",
            "--employer",
            CNPJ,
            "--id",
            "42",
            "--cpf",
            documents.make_cpf(301),
            "--name",
            "Legado",
            "--responsible-cpf",
            RESPONSIBLE,
        )
        == 0
    )
    sealed = seals(db, CNPJ)
    assert [p for _, p, _ in sealed] == [_punch_id(unknown_employee), _punch_id(legacy)]
    assert [n for n, _, _ in sealed] == [8, 10]  # 7: new-hire's type 5; 9: 42's type 5
    # The punch of an unknown key stays unsealed; `ponto seal` has nothing it may seal
    capsys.readouterr()
    assert main(["seal", "--json", "--database-url", registered]) == 0
    assert '"unsealed": 1' in capsys.readouterr().out.splitlines()[-1]


def _punch_id(sqs: dict[str, Any]) -> str:
    from zoneinfo import ZoneInfo

    return parse_record(sqs, ZoneInfo("America/Sao_Paulo")).punch_id


def test_concurrent_workers_keep_nsrs_gap_free(registered: str, db: Any) -> None:
    # Given four workers, each with its own connection, sealing the same establishment at once
    batches = [[record(KEY, employee_id=f"e{1 + (i + b) % 5}") for i in range(50)] for b in range(16)]
    errors: list[BaseException] = []

    def run(mine: list[list[dict[str, Any]]]) -> None:
        from zoneinfo import ZoneInfo

        store = PunchStore(connector(UrlDatabase(registered)))
        try:
            for batch in mine:
                store.record([parse_record(r, ZoneInfo("America/Sao_Paulo")) for r in batch])
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=run, args=(batches[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    # Then 800 seals, NSRs 7..806 without a gap, one chain
    sealed = seals(db, CNPJ)
    assert [n for n, _, _ in sealed] == list(range(7, 807))
    previous = None
    for _, _, line in sealed:
        assert line[73:] == afd.punch_hash(line[:73], previous)
        previous = line[73:]
    assert main(["verify", "--database-url", registered]) == 0


def test_the_worker_role_cannot_change_the_record(registered: str, db: Any, worker: Callable[..., Any]) -> None:
    worker(sqs_event([record(KEY, employee_id="e1")]), LambdaContext())
    as_worker = psycopg2.connect(registered.replace("postgres:@", "ponto_worker@"))
    as_worker.autocommit = True
    try:
        with as_worker.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone() == ("ponto_worker",)
            for statement in (
                "UPDATE punches SET source_ip = 'x'",
                "DELETE FROM punches",
                "UPDATE afd_records SET line = line",
                "DELETE FROM afd_records",
                "TRUNCATE punches",
                "TRUNCATE afd_records",
                "UPDATE employees SET name = 'x'",
                "INSERT INTO devices VALUES ('d', 1, 'other', 'x', 'k')",
            ):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(statement)
    finally:
        as_worker.close()
    # The owner is refused too, by the triggers
    with db.cursor() as cur:
        for statement in ("UPDATE afd_records SET line = line", "DELETE FROM punches", "TRUNCATE afd_records"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)


def test_verify_finds_a_row_changed_behind_its_back(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    worker(sqs_event([record(KEY, employee_id=f"e{n}") for n in range(1, 6)]), LambdaContext())
    assert main(["verify", "--database-url", registered]) == 0
    # A superuser with triggers disabled moves the punch time of NSR 9 by a minute
    with db.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "UPDATE afd_records SET line = overlay(line placing '59' from 25 for 2)"
            " WHERE nsr = 9 AND establishment_id = (SELECT establishment_id FROM establishments WHERE document = %s)",
            (CNPJ,),
        )
        cur.execute("RESET session_replication_role")
    capsys.readouterr()
    assert main(["verify", "--database-url", registered]) == 1
    out = capsys.readouterr().out
    assert "BROKEN at NSR 000000009" in out


def test_verify_finds_a_punch_row_changed(
    registered: str, db: Any, worker: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    worker(sqs_event([record(KEY, employee_id="e1", punched_at="2026-11-24T08:00:00-03:00")]), LambdaContext())
    with db.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("UPDATE punches SET punched_at = punched_at + interval '1 hour'")
        cur.execute("RESET session_replication_role")
    assert main(["verify", "--database-url", registered, "--employer", CNPJ]) == 1
    assert "differs from its punch row" in capsys.readouterr().out


def test_afd_export_passes_afd_verify(
    registered: str, db: Any, worker: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker(sqs_event([record(KEY, employee_id=f"e{n}") for n in range(1, 6)]), LambdaContext())
    assert (
        cli(registered, "employee", "remove", "--employer", CNPJ, "--id", "e5", "--responsible-cpf", RESPONSIBLE) == 0
    )
    env = {"PONTO_REP_INPI": "12345678901234567", "PONTO_DEVELOPER_CNPJ": documents.make_cnpj(99)}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert cli(registered, "afd", "--employer", CNPJ, "--out", str(tmp_path), "--data-dir", str(tmp_path)) == 0
    (path,) = tmp_path.glob("AFD*.txt")
    assert path.name == afd.file_name("12345678901234567", CNPJ)
    raw = path.read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""  # every line ends in CRLF
    assert [line[9:10] for line in lines[:-3]] == [b"1", b"2", *[b"5"] * 5, *[b"7"] * 5, b"5"]
    assert lines[-2] == afd.SIGNATURE_LINE.encode()
    assert lines[-3] == afd.trailer({"2": 1, "5": 6, "7": 5}).encode()
    capsys.readouterr()
    assert main(["afd", "verify", str(path)]) == 0, capsys.readouterr().out


def test_invalid_input_is_one_line_and_exit_code_2(
    registered: str, db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_cpf = documents.make_cpf(5)[:-1] + str((int(documents.make_cpf(5)[-1]) + 1) % 10)
    before = rows(db, "SELECT count(*) FROM afd_records")
    cases = [
        ("employee", "add", "--employer", CNPJ, "--id", "x1", "--cpf", bad_cpf, "--name", "N"),
        (
            "employee",
            "add",
            "--employer",
            documents.make_cnpj(1),
            "--id",
            "x1",
            "--cpf",
            documents.make_cpf(9),
            "--name",
            "N",
        ),
        ("employee", "add", "--employer", CNPJ, "--id", "e1", "--cpf", documents.make_cpf(9), "--name", "N"),
        ("employee", "add", "--employer", CNPJ, "--id", "x1", "--cpf", documents.make_cpf(101), "--name", "N"),
        ("employer", "add", "--cnpj", CNPJ, "--name", "N", "--workplace", "W"),
        ("employer", "add", "--cnpj", "11222333000100", "--name", "N", "--workplace", "W"),
    ]
    for case in cases:
        capsys.readouterr()
        assert cli(registered, *case, "--responsible-cpf", RESPONSIBLE) == 2, case
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert bad_cpf not in err and documents.make_cpf(101) not in err  # ids only, never a CPF
    assert rows(db, "SELECT count(*) FROM afd_records") == before


def test_employee_import_is_all_or_nothing(
    registered: str, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "id,cpf,name\n" + "".join(f"i{n},{documents.make_cpf(10_000 + n)},Pessoa {n}\n" for n in range(10_000)),
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,cpf,name\nb1,"
        + documents.make_cpf(50_001)
        + ",Ok\nb2,123,Bad CPF\nb 3,"
        + documents.make_cpf(50_002)
        + ",Bad id\ne1,"
        + documents.make_cpf(50_003)
        + ",Taken id\n",
        encoding="utf-8",
    )
    before = rows(db, "SELECT count(*) FROM employees")
    assert cli(registered, "employee", "import", "--employer", CNPJ, str(bad), "--responsible-cpf", RESPONSIBLE) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "line 4" in err
    assert rows(db, "SELECT count(*) FROM employees") == before
    taken = tmp_path / "taken.csv"
    taken.write_text(
        "id,cpf,name\nt1," + documents.make_cpf(60_001) + ",Ok\ne1," + documents.make_cpf(60_002) + ",Taken\n",
        encoding="utf-8",
    )
    assert cli(registered, "employee", "import", "--employer", CNPJ, str(taken), "--responsible-cpf", RESPONSIBLE) == 2
    assert "line 3" in capsys.readouterr().err
    assert rows(db, "SELECT count(*) FROM employees") == before
    assert cli(registered, "employee", "import", "--employer", CNPJ, str(good), "--responsible-cpf", RESPONSIBLE) == 0
    assert rows(db, "SELECT count(*) FROM employees") == [(before[0][0] + 10_000,)]
    assert nsrs(db, CNPJ)[-1] == 6 + 10_000
    assert main(["verify", "--database-url", registered]) == 0


def test_device_add_puts_the_key_in_the_local_key_store(
    registered: str, db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from ponto.local.keys import KeyStore

    capsys.readouterr()
    assert (
        cli(registered, "device", "add", "--employer", CNPJ, "--kind", "browser", "--json", "--data-dir", str(tmp_path))
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) >= {"device_id", "api_key"}
    assert KeyStore(tmp_path).key_id(shown["api_key"]) == api_key_id(shown["api_key"])
    assert rows(db, "SELECT kind FROM devices WHERE device_id = %s", shown["device_id"]) == [("browser",)]


def test_an_afd_of_a_period_is_the_contiguous_nsr_range_recorded_in_it(
    registered: str, db: Any, worker: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from ponto.record import afd_check
    from ponto.store import record as record_store

    # Given punches recorded on three days after the registry's records (11:00 UTC = 08:00 in São Paulo)
    for day, count in ((20, 2), (21, 3), (22, 1)):
        moment = datetime(2099, 11, day, 11, 0, tzinfo=UTC)
        monkeypatch.setattr(record_store, "clock", lambda moment=moment: moment)
        worker(sqs_event([record(KEY, employee_id=f"e{n}") for n in range(1, count + 1)]), LambdaContext())
    monkeypatch.setenv("PONTO_REP_INPI", "12345678901234567")
    monkeypatch.setenv("PONTO_DEVELOPER_CNPJ", documents.make_cnpj(99))
    # When the AFD of the 21st alone is written
    out = tmp_path / "period.txt"
    assert cli(registered, "afd", "--employer", CNPJ, "--from", "2099-11-21", "--to", "2099-11-21", "--out", str(out),
               "--data-dir", str(tmp_path)) == 0  # fmt: skip
    lines = out.read_bytes().split(b"\r\n")[:-1]
    # Then it holds the three punches of that day, NSRs 9..11, and says so in its header and trailer
    assert [line[:10] for line in lines[1:4]] == [b"0000000097", b"0000000107", b"0000000117"]
    assert lines[0][206:226] == b"2099-11-212099-11-21"
    assert lines[4] == afd.trailer({"7": 3}).encode()
    result = afd_check.check_afd_file(out)
    assert result.problems == [] and result.counts["7"] == 3
    # And a period with nothing recorded is a valid file with no records
    empty = tmp_path / "empty.txt"
    assert cli(registered, "afd", "--employer", CNPJ, "--from", "2099-12-01", "--to", "2099-12-31", "--out",
               str(empty), "--data-dir", str(tmp_path)) == 0  # fmt: skip
    assert afd_check.check_afd_file(empty).problems == []


def test_verify_reads_a_punch_late_in_its_minute_as_that_minute(
    registered: str, db: Any, worker: Callable[..., Any]
) -> None:
    # 08:00:59.7 is written 08:00 in the AFD; its punch row must read back as 08:00 too, not 08:01
    worker(sqs_event([record(KEY, employee_id="e1", punched_at="2026-11-24T08:00:59.700-03:00")]), LambdaContext())
    assert main(["verify", "--database-url", registered]) == 0


def test_a_warm_worker_sees_employees_come_and_go(registered: str, db: Any, worker: Callable[..., Any]) -> None:
    # Given a warm worker that has sealed e1's punch and found no "late" at the establishment
    worker(sqs_event([record(KEY, employee_id="e1"), record(KEY, employee_id="late")]), LambdaContext())
    assert len(seals(db, CNPJ)) == 1
    # When e1 leaves and "late" is registered (its pending punch is sealed by the registration)
    assert (
        cli(registered, "employee", "remove", "--employer", CNPJ, "--id", "e1", "--responsible-cpf", RESPONSIBLE) == 0
    )
    assert cli(registered, "employee", "add", "--employer", CNPJ, "--id", "late", "--cpf", documents.make_cpf(400),
               "--name", "Tardia", "--responsible-cpf", RESPONSIBLE) == 0  # fmt: skip
    assert len(seals(db, CNPJ)) == 2
    # Then the same warm worker seals the newcomer's next punch and not the leaver's
    e1_again, late_again = record(KEY, employee_id="e1"), record(KEY, employee_id="late")
    worker(sqs_event([e1_again, late_again]), LambdaContext())
    sealed_ids = {p for _, p, _ in seals(db, CNPJ)}
    assert _punch_id(late_again) in sealed_ids and _punch_id(e1_again) not in sealed_ids
    assert main(["verify", "--database-url", registered]) == 0
