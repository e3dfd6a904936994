"""checkov (a static security scanner) on the packaged template: no failed check.

Every check it would fail is either fixed in serverless.yml or skipped in the checked-in
``.checkov.yaml`` with a one-line reason. checkov pins its own boto3 (``==1.35.49`` in 3.3.30), which
conflicts with the project's, so it lives in a virtualenv of its own (``build/checkov-venv``, created
on first use with the pinned version; ``PONTO_CHECKOV`` names another executable).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, Packaged

pytestmark = [pytest.mark.template, pytest.mark.slow]

CHECKOV_VERSION = "3.3.30"  # the latest 3.3.x
CONFIG = ROOT / ".checkov.yaml"
VENV = ROOT / "build" / "checkov-venv"


def _installed_version(executable: Path) -> str | None:
    if not executable.exists():
        return None
    done = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=120, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="session")
def checkov() -> Path:
    override = os.environ.get("PONTO_CHECKOV")
    if override:
        return Path(override)
    executable = VENV / "bin" / "checkov"
    if _installed_version(executable) != CHECKOV_VERSION:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
        done = subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
             f"checkov=={CHECKOV_VERSION}"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"could not install checkov {CHECKOV_VERSION} into {VENV}:\n{done.stdout}{done.stderr}")
    return executable


def test_every_skipped_check_says_why() -> None:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    skipped = config["skip-check"]
    assert skipped, "nothing skipped: drop the list rather than leave it empty"
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    for check in skipped:
        (line,) = [line for line in lines if re.match(rf"\s*-\s*{re.escape(check)}\b", line)]
        reason = line.partition("#")[2].strip()
        assert len(reason) > 20, f"{check} is skipped without a reason"
    assert config["framework"] == ["cloudformation"]


def test_checkov_finds_no_failed_check(packaged: Packaged, checkov: Path, tmp_path: Path) -> None:
    command = [
        str(checkov),
        "--config-file", str(CONFIG),
        "--framework", "cloudformation",
        "--quiet", "--compact", "--skip-download",
        "--output", "json",
        "--file", str(packaged.template_path),
    ]  # fmt: skip
    # No network: --skip-download; the home directory keeps checkov's caches out of the user's.
    env = {**os.environ, "HOME": str(tmp_path), "BC_SKIP_MAPPING": "TRUE"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env, cwd=tmp_path)
    assert done.stdout.strip(), f"checkov printed nothing (rc={done.returncode}): {done.stderr}"
    report = json.loads(done.stdout)
    if isinstance(report, list):  # one report per framework
        (report,) = report
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], "\n".join(failed)
    assert summary["failed"] == 0
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 50, summary  # it did scan the template
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
