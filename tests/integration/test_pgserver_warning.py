"""Starting the embedded PostgreSQL prints no RuntimeDirWarning where XDG_RUNTIME_DIR is unset
(containers, CI, ssh sessions): platformdirs, a pgserver dependency, warns on import there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

START = """
import shutil, tempfile
from pathlib import Path
from ponto.local.stack import start_pgserver

data = Path(tempfile.mkdtemp(prefix="ponto-xdg-"))
try:
    server = start_pgserver(data)
    print(server.get_uri())
    server.cleanup()
finally:
    shutil.rmtree(data, ignore_errors=True)
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "PYTHONWARNINGS")}
    # -W always: shown even where a warning filter (pytest's, the user's) would hide it
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_starting_pgserver_through_the_helper_prints_no_runtime_dir_warning() -> None:
    plain = run("import pgserver")
    if "XDG_RUNTIME_DIR is not set" not in plain.stderr:
        pytest.skip("this platformdirs does not warn when XDG_RUNTIME_DIR is unset")
    started = run(START)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("postgresql://")
    assert "XDG_RUNTIME_DIR" not in started.stderr and "RuntimeDirWarning" not in started.stderr, started.stderr
