"""`ponto bench coldstart`: what a cold start of the worker pays before the first punch.

* Import time of the handler module serverless.yml names, against `import boto3, psycopg2` (what any
  Lambda that talks to AWS and PostgreSQL imports), each in a fresh interpreter; medians of several runs.
* Size of the deployment zip that `serverless package` builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponto.bench.measure import at_most, median, ratio
from ponto.serverless_config import SERVERLESS_YML, function_handler, load

DEFAULT_RUNS = 7
IMPORT_RATIO_TARGET = 2.0
ZIP_MB_TARGET = 5.0
MB = 1 << 20  # as AWS counts Lambda package sizes ("50 MB" zipped is 52,428,800 bytes)
# The target is met only under 5 MB in both readings: 5,000,000 bytes is the stricter.
ZIP_BYTES_TARGET = 5_000_000
# Settings load from the environment at import; the address answers nothing, so an import that
# connected would fail instead of passing unnoticed.
DUMMY_DATABASE_URL = "postgresql://ponto:ponto@127.0.0.1:9/ponto?connect_timeout=2"
BASELINE_MODULES = ("boto3", "psycopg2")
PACKAGE_TIMEOUT_S = 900
_TIMER = "import time\nt = time.perf_counter()\nimport {modules}\nprint(time.perf_counter() - t)\n"


class ColdStartError(RuntimeError):
    """An import under measurement failed."""


def worker_module() -> str:
    path, _, _ = function_handler("worker").rpartition(".")
    return path.replace("/", ".")


def import_env(base: Mapping[str, str], root: Path) -> dict[str, str]:
    """The environment of the import: the function's settings, and the variables Lambda's runtime sets.

    Libraries branch on them (Powertools reads the function's name and memory, the X-Ray SDK, when
    a handler loads it, builds botocore clients at import unless LAMBDA_TASK_ROOT is set): measuring
    outside Lambda's branch would time a cold start Lambda never has.
    """
    env = dict(base)
    env.update(
        PONTO_DATABASE_URL=DUMMY_DATABASE_URL,
        POWERTOOLS_SERVICE_NAME="ponto",
        POWERTOOLS_METRICS_NAMESPACE="PontoBench",
        LAMBDA_TASK_ROOT=str(root),
        AWS_LAMBDA_FUNCTION_NAME="ponto-bench-worker",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
        AWS_REGION=base.get("AWS_REGION", "us-east-1"),
        _HANDLER=function_handler("worker"),
    )
    return env


def time_import(modules: Sequence[str], *, root: Path, env: Mapping[str, str], python: str) -> float:
    """Seconds `import <modules>` takes in a fresh interpreter started in `root`."""
    code = _TIMER.format(modules=", ".join(modules))
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [python, "-c", code], cwd=root, env=dict(env), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise ColdStartError(f"import {', '.join(modules)} failed: {done.stderr.strip()[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def parse_importtime(stderr: str) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of each line `python -X importtime` writes."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3:
            continue
        try:
            own, cumulative = int(fields[0]), int(fields[1])
        except ValueError:
            continue  # the header line
        entries.append((fields[2].strip(), own, cumulative))
    return entries


def heaviest_packages(entries: Sequence[tuple[str, int, int]], top: int = 8) -> list[dict[str, Any]]:
    """The top-level packages whose imports (all their submodules) cost the most, in ms."""
    totals: dict[str, int] = {}
    for name, own, _ in entries:
        package = name.split(".")[0]
        totals[package] = totals.get(package, 0) + own
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"package": name, "ms": round(us / 1000, 1)} for name, us in ranked]


def worker_import_profile(module: str, *, root: Path, env: Mapping[str, str], python: str) -> list[dict[str, Any]]:
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [python, "-X", "importtime", "-c", f"import {module}"],
        cwd=root, env=dict(env), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return heaviest_packages(parse_importtime(done.stderr))


# --- the package -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipSize:
    path: str | None
    size: int | None
    note: str


def existing_zip(root: Path, service: str) -> Path | None:
    candidate = root / ".serverless" / f"{service}.zip"
    return candidate if candidate.is_file() else None


def package_zip(root: Path, service: str) -> ZipSize:
    """Run `serverless package` into a temporary directory (dummy credentials: it calls no AWS API)."""
    npx = shutil.which("npx")
    if npx is None:
        return ZipSize(None, None, "npx not found: install Node.js and run `npm ci`")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_REGION="us-east-1")  # noqa: S106
    with tempfile.TemporaryDirectory(prefix="ponto-package-") as directory:
        try:
            done = subprocess.run(  # noqa: S603 - fixed command
                [npx, "--no-install", "serverless", "package", "--package", directory],
                cwd=root, env=env, capture_output=True, text=True, timeout=PACKAGE_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return ZipSize(None, None, f"serverless package took more than {PACKAGE_TIMEOUT_S} s")
        built = Path(directory) / f"{service}.zip"
        if done.returncode != 0 or not built.is_file():
            tail = (done.stderr or done.stdout).strip()[-500:]
            return ZipSize(None, None, f"serverless package failed (exit {done.returncode}): {tail}")
        return ZipSize(f"{service}.zip (built by serverless package)", built.stat().st_size, "packaged now")


def zip_size(root: Path, *, package: bool) -> ZipSize:
    service = str(load(root / SERVERLESS_YML.name).get("service") or "ponto")
    if package:
        return package_zip(root, service)
    found = existing_zip(root, service)
    if found is None:
        return ZipSize(
            None,
            None,
            f"no .serverless/{service}.zip: run `npx serverless package` first, or leave out --no-package",
        )
    return ZipSize(str(found.relative_to(root)), found.stat().st_size, "existing package (not rebuilt: may be stale)")


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStartOptions:
    runs: int = DEFAULT_RUNS
    package: bool = True  # build the zip now: one left in .serverless/ may be from other code


def run(options: ColdStartOptions) -> dict[str, Any]:
    if options.runs < 1:
        raise ValueError("runs must be at least 1")
    root = SERVERLESS_YML.parent
    module = worker_module()
    env = import_env(os.environ, root)
    python = sys.executable
    # One untimed import each first: byte-code compiled and files in the page cache, as on a warm disk.
    time_import([module], root=root, env=env, python=python)
    time_import(BASELINE_MODULES, root=root, env=env, python=python)
    worker_s: list[float] = []
    baseline_s: list[float] = []
    for _ in range(options.runs):  # interleaved, so drift in the machine's load hits both alike
        worker_s.append(time_import([module], root=root, env=env, python=python))
        baseline_s.append(time_import(BASELINE_MODULES, root=root, env=env, python=python))
    worker_ms = round(median(worker_s) * 1000, 1)
    baseline_ms = round(median(baseline_s) * 1000, 1)
    import_ratio = ratio(worker_ms, baseline_ms)
    package = zip_size(root, package=options.package)
    zip_mb = None if package.size is None else round(package.size / MB, 2)
    return {
        "runs": options.runs,
        "worker_module": module,
        "baseline": "import " + ", ".join(BASELINE_MODULES),
        "worker_import_ms": worker_ms,
        "baseline_import_ms": baseline_ms,
        "import_ratio": import_ratio,
        "worker_heaviest_imports": worker_import_profile(module, root=root, env=env, python=python),
        "zip_bytes": package.size,
        "zip_mb": zip_mb,
        "zip_source": package.path,
        "zip_note": package.note,
        "targets": {"import_ratio": IMPORT_RATIO_TARGET, "zip_mb": ZIP_MB_TARGET},
        "targets_met": {
            "import_ratio": at_most(import_ratio, IMPORT_RATIO_TARGET),
            "zip_mb": None if package.size is None else at_most(package.size, ZIP_BYTES_TARGET),
        },
    }
