"""`ponto seal`, `ponto verify`, `ponto afd` and `ponto afd verify`: the legal record's own commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ponto.commands.common import add_database_options, connection, emit, establishment_of, local_state
from ponto.errors import ConfigError, InvalidInputError
from ponto.record import afd, afd_check, signing
from ponto.record.export import RepIdentity, write_afd
from ponto.record.registry import Establishment
from ponto.record.verify import verify_chain
from ponto.store import record, registry


def _establishments(conn: Any, employer: str | None) -> list[Establishment]:
    """The establishment `--employer` names, or all of them."""
    if employer is not None:
        return [establishment_of(conn, employer)]
    with conn, conn.cursor() as cur:
        return registry.list_establishments(cur)


# --- seal -----------------------------------------------------------------------------------------


def cmd_seal(args: argparse.Namespace) -> int:
    with connection(args) as conn:
        targets = _establishments(conn, args.employer)
        with conn, conn.cursor() as cur:
            pending = set(record.establishments_with_pending(cur))
        sealed = {
            e.document: record.seal_pending(conn, e.establishment_id)
            for e in targets
            if e.establishment_id in pending and e.establishment_id is not None
        }
        with conn, conn.cursor() as cur:
            left = record.unsealed_count(cur)
    total = sum(sealed.values())
    emit(
        args,
        {"sealed": total, "by_establishment": sealed, "unsealed": left},
        f"sealed {total} pending punches; {left} still unsealed (unknown device or employee)",
    )
    return 0


# --- verify ---------------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    reports = []
    with connection(args) as conn:
        for establishment in _establishments(conn, args.employer):
            assert establishment.establishment_id is not None
            with conn, conn.cursor() as cur:
                head = record.head(cur, establishment.establishment_id)
            with conn:
                report = verify_chain(
                    establishment.establishment_id, record.chain_rows(conn, establishment.establishment_id), head
                )
            reports.append((establishment, report))
    broken = [(e, r) for e, r in reports if not r.ok]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "employer": e.document,
                        "ok": r.ok,
                        "records": r.records,
                        "punches": r.punches,
                        "first_broken_nsr": r.first_broken_nsr,
                        "problems": r.problems,
                    }
                    for e, r in reports
                ]
            )
        )
    else:
        for e, r in reports:
            state = "ok" if r.ok else f"BROKEN at NSR {r.first_broken_nsr:09d}"
            print(f"{e.document}: {r.records} records, {r.punches} punches: {state}")
            for problem in r.problems:
                print(f"  {problem}")
    return 1 if broken else 0


# --- afd ------------------------------------------------------------------------------------------


def rep_identity(args: argparse.Namespace) -> RepIdentity:
    """PONTO_REP_INPI and PONTO_DEVELOPER_CNPJ, else the local stack's demo values."""
    inpi = os.environ.get("PONTO_REP_INPI")
    developer = os.environ.get("PONTO_DEVELOPER_CNPJ")
    state = local_state(args)
    if state is not None:
        inpi = inpi or state.rep_inpi
        developer = developer or state.developer_cnpj
    if not inpi or not developer:
        raise ConfigError("set PONTO_REP_INPI (17 digits) and PONTO_DEVELOPER_CNPJ for the AFD's header")
    return RepIdentity(inpi, developer)


def signing_identity(args: argparse.Namespace) -> signing.SigningIdentity | None:
    """--certificate/--key, else PONTO_SIGNING_CERT/PONTO_SIGNING_KEY (PEM files), else
    PONTO_SIGNING_SECRET_ARN (Secrets Manager), else the local stack's test certificate, else none."""
    certificate = args.certificate or os.environ.get("PONTO_SIGNING_CERT")
    key = args.key or os.environ.get("PONTO_SIGNING_KEY")
    if certificate or key:
        if not (certificate and key):
            raise InvalidInputError("a signing certificate needs both --certificate and --key")
        return _identity(Path(certificate), Path(key))
    secret_arn = os.environ.get("PONTO_SIGNING_SECRET_ARN")
    if secret_arn:
        from ponto.aws_secrets import signing_pem

        certificate_pem, key_pem = signing_pem(secret_arn)
        return signing.SigningIdentity(certificate_pem, key_pem)
    state = local_state(args)
    if state is not None and state.signing_certificate and state.signing_key:
        with contextlib.suppress(signing.SigningError):
            return signing.SigningIdentity.from_files(Path(state.signing_certificate), Path(state.signing_key))
    return None


def _identity(certificate: Path, key: Path) -> signing.SigningIdentity:
    try:
        return signing.SigningIdentity.from_files(certificate, key)
    except signing.SigningError as exc:
        raise InvalidInputError(f"signing certificate: {exc}") from None


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{what}: a date as YYYY-MM-DD") from None


def _progress(total: int) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty() or total < 10_000:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" records", unit_scale=True, file=sys.stderr, leave=False)
    return bar.update, bar.close


def cmd_afd(args: argparse.Namespace) -> int:
    first, last = _day(args.date_from, "--from"), _day(args.date_to, "--to")
    if first and last and first > last:
        raise InvalidInputError("--from is after --to")
    rep = rep_identity(args)
    identity = signing_identity(args)
    with connection(args) as conn:
        (establishment,) = _establishments(conn, args.employer)
        assert establishment.establishment_id is not None
        zone = establishment.zone
        start = None if first is None else datetime.combine(first, time(), zone)
        end = None if last is None else datetime.combine(last + timedelta(days=1), time(), zone)
        with conn, conn.cursor() as cur:
            span = record.span(cur, establishment.establishment_id, start, end)
        today = datetime.now(UTC).astimezone(zone).date()
        first_day = span.first_recorded_at.astimezone(zone).date() if span.first_recorded_at else (first or today)
        last_day = span.last_recorded_at.astimezone(zone).date() if span.last_recorded_at else (last or first_day)
        target = _target(args.out, afd.file_name(rep.inpi, establishment.document))
        update, close = _progress(span.count)
        with _atomic(target) as out, conn:
            written = write_afd(
                out,
                establishment=establishment,
                rep=rep,
                first_day=first_day,
                last_day=last_day,
                generated_at=datetime.now(UTC),
                records=record.record_lines(conn, establishment.establishment_id, start, end),
                progress=update,
            )
        close()
    signature = None
    if identity is not None:
        signature = signing.signature_path(target)
        partial = signature.with_name(signature.name + ".part")
        partial.write_bytes(signing.sign_digest(written.sha256, identity))
        os.replace(partial, signature)
    emit(
        args,
        {
            "file": str(target),
            "signature": None if signature is None else str(signature),
            "records": written.records,
            "counts": written.counts,
            "bytes": written.size,
        },
        f"{target}: {written.records} records ({written.counts['7']} punches), {written.size:,} bytes"
        + ("" if signature is None else f"; signed: {signature.name}"),
    )
    return 0


def _target(out: Path | None, name: str) -> Path:
    if out is None:
        return Path(name)
    return out / name if out.is_dir() else out


@contextlib.contextmanager
def _atomic(target: Path) -> Iterator[Any]:
    """A file that appears at `target` only once it is whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def cmd_afd_verify(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    result = afd_check.check_afd_file(path)
    problems = [f"line {p.line}: {p.message}" if p.line else p.message for p in result.problems]
    signature = path.with_name(path.name + ".p7s")
    signer = None
    if signature.exists():
        try:
            signer = signing.verify_file(path, signature).signer
        except signing.SigningError as exc:
            problems.append(f"signature: {exc}")
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(path),
                    "ok": not problems,
                    "records": result.records,
                    "counts": result.counts,
                    "crc": result.crc_variant,
                    "signed_by": signer,
                    "problems": problems,
                }
            )
        )
    else:
        for problem in problems:
            print(problem)
        state = "ok" if not problems else f"{len(problems)} problems"
        signed = f"; signature ok ({signer})" if signer else ("" if signature.exists() else "; not signed")
        print(f"{path.name}: {result.records} records: {state}{signed}")
    return 0 if not problems else 1


def add_parsers(commands: Any) -> None:
    seal = commands.add_parser("seal", help="seal pending punches whose device and employee are now registered")
    seal.add_argument("--employer", help="only this establishment (CNPJ or CPF)")
    add_database_options(seal)
    seal.set_defaults(run=cmd_seal)

    verify = commands.add_parser(
        "verify", help="recompute every establishment's NSR sequence and hash chain; exit 0 only if all hold"
    )
    verify.add_argument("--employer", help="only this establishment (CNPJ or CPF)")
    add_database_options(verify)
    verify.set_defaults(run=cmd_verify)

    afd_parser = commands.add_parser("afd", help="write an establishment's AFD (Portaria 671), or check one")
    afd_parser.add_argument("--employer", help="the establishment's CNPJ or CPF")
    afd_parser.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD, the establishment's zone)")
    afd_parser.add_argument("--to", dest="date_to", help="last day (inclusive)")
    afd_parser.add_argument("--out", type=Path, help="file or folder (default: the AFD's legal name, here)")
    afd_parser.add_argument("--certificate", help="PEM certificate to sign with (env PONTO_SIGNING_CERT)")
    afd_parser.add_argument("--key", help="its PEM private key (env PONTO_SIGNING_KEY)")
    add_database_options(afd_parser)
    afd_parser.set_defaults(run=_afd_export)
    actions = afd_parser.add_subparsers(dest="action")
    check = actions.add_parser("verify", help="check any AFD file (layout, CRCs, NSRs, trailer, hash chain, .p7s)")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(run=cmd_afd_verify)


def _afd_export(args: argparse.Namespace) -> int:
    if args.employer is None:
        raise InvalidInputError("ponto afd: give --employer (or `ponto afd verify FILE`)")
    return cmd_afd(args)
