"""The first run: `make local` installs .[local] once (pip is skipped while the venv holds the install),
setuptools sees no deprecated `license` table, and `ponto status` says each figure's scope."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ponto.local.status import SCOPES, Status

ROOT = Path(__file__).resolve().parents[2]

# A venv whose python is the real one, except that `-m pip` only logs its arguments (and creates the
# `ponto` script, as the editable install does); PIP_FAILS=1 makes the project's install fail.
FAKE_PYTHON = """#!/bin/sh
bin=$(dirname "$0")
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  shift 2
  echo "$*" >> "$bin/../pip.log"
  case "$*" in *" -e "*) [ -z "$PIP_FAILS" ] || exit 1 ;; esac
  touch "$bin/ponto" && chmod +x "$bin/ponto"
  exit 0
fi
exec {python} "$@"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "ponto"\n')
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON.format(python=sys.executable))
    python.chmod(0o755)
    return tmp_path


def bootstrap(project: Path, *args: str, fails: bool = False) -> list[str]:
    """Runs scripts/bootstrap; returns what it asked pip to install (the log is emptied)."""
    env = {**os.environ, "PIP_FAILS": "1" if fails else ""}
    result = subprocess.run(
        [str(project / "scripts" / "bootstrap"), *args], capture_output=True, text=True, env=env, check=False
    )
    assert (result.returncode != 0) == fails, result.stderr
    log = project / ".venv" / "pip.log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [call for call in calls if "--upgrade pip" not in call]


def test_make_local_installs_the_local_extra_once(project: Path) -> None:
    assert bootstrap(project, "--python") == ["install --quiet -e .[local]"]
    assert bootstrap(project, "--python") == []  # the second `make local` does not run pip


def test_a_changed_pyproject_installs_again(project: Path) -> None:
    bootstrap(project, "--python")
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('dependencies = ["orjson"]\n')
    assert bootstrap(project, "--python") == ["install --quiet -e .[local]"]
    assert bootstrap(project, "--python") == []


def test_a_venv_with_the_dev_tools_keeps_them(project: Path) -> None:
    stamp = project / ".venv" / ".ponto-install"
    (project / ".venv" / "bin" / "ponto").touch(mode=0o755)
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    stamp.write_text(f"{digest} dev\n")
    assert bootstrap(project, "--python") == []  # .[dev] holds .[local]
    (project / "pyproject.toml").write_text('[project]\nname = "ponto"\nversion = "2"\n')
    assert bootstrap(project, "--python") == ["install --quiet -e .[dev]"]  # not downgraded to .[local]


def test_a_failed_install_is_tried_again(project: Path) -> None:
    assert bootstrap(project, "--python", fails=True) == ["install --quiet -e .[local]"]
    assert not (project / ".venv" / ".ponto-install").exists()
    assert bootstrap(project, "--python") == ["install --quiet -e .[local]"]


def test_the_full_bootstrap_installs_the_dev_extra(project: Path) -> None:
    """`scripts/bootstrap` (CI, `make install`) installs .[dev] over a venv `make local` made."""
    bootstrap(project, "--python")
    fake_bin = project / "fake-bin"
    fake_bin.mkdir()
    for tool in ("npm", "javac", "apt-get", "sudo"):
        (fake_bin / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{project}/tools.log"\n')
        (fake_bin / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PIP_FAILS": ""}
    result = subprocess.run(
        [str(project / "scripts" / "bootstrap")], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "install --quiet -e .[dev]" in (project / ".venv" / "pip.log").read_text()
    assert "npm ci" in (project / "tools.log").read_text()


def test_the_local_extra_holds_what_the_cli_imports() -> None:
    """What `ponto local` and the CLI import beyond the main dependencies is in .[local], not only in .[dev]."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    local = {re.split(r"[=<>\[]", requirement)[0].lower() for requirement in extras["local"]}
    assert {"pgserver", "airspeed", "pyyaml"} <= local
    assert "ponto[local]" in extras["dev"]


def test_the_license_is_an_spdx_string_the_build_backend_supports() -> None:
    """setuptools deprecates the `license` table; an SPDX string needs setuptools >= 77."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    pins = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    assert pins and (floor := re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", pins[0].replace(" ", "")))
    assert int(floor.group(1)) >= 77


def test_status_names_each_figures_scope() -> None:
    status = Status(received=3, queue=1, in_flight=2, dlq=0, recorded=1234, last_lead_time_ms=412.4, unsealed=5)
    assert status.line() == (
        "this run: received 3 | all time: recorded 1,234, unsealed 5"
        " | now: queued 1, in flight 2, DLQ 0 | last punch: lead time 412 ms"
    )
    shown = json.loads(json.dumps(status.as_dict()))
    # The keys the load test's sampler and the tests read stay; "scopes" says what each one counts.
    assert {k: shown[k] for k in ("received", "recorded", "queue", "in_flight", "dlq", "unsealed")} == {
        "received": 3,
        "recorded": 1234,
        "queue": 1,
        "in_flight": 2,
        "dlq": 0,
        "unsealed": 5,
    }
    assert shown["scopes"] == SCOPES
    assert set(SCOPES) == set(shown) - {"scopes"}
    assert SCOPES["received"] == "this_run" and SCOPES["recorded"] == "all_time"


def test_an_unknown_figure_shows_as_a_question_mark() -> None:
    status = Status(received=None, queue=None, in_flight=None, dlq=None, recorded=None, last_lead_time_ms=None)
    assert status.line().count("?") == 7
