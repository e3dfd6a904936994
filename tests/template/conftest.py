"""Packages the stack once per session (``serverless package`` with osls) and loads the template.

Needs ``npm ci`` (node_modules/serverless) and pip able to download the manylinux wheels of
requirements.txt. No AWS account: dummy credentials are enough for ``package``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "ponto" / "contract" / "openapi.json"
SERVERLESS_YML = ROOT / "serverless.yml"
STAGE = "test"
PACKAGE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Packaged:
    """The result of one ``serverless package`` run."""

    directory: Path
    template_path: Path
    template: dict[str, Any]
    zip_path: Path
    seconds: float
    output: str

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))


def _package_env() -> dict[str, str]:
    env = os.environ.copy()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
            # pip of the interpreter running the tests downloads the Lambda (manylinux) wheels.
            "PONTO_PYTHON_BIN": sys.executable,
        }
    )
    return env


@pytest.fixture(scope="session")
def sls_config() -> dict[str, Any]:
    """serverless.yml as plain YAML (variables unresolved): where the tunables are declared."""
    config: dict[str, Any] = yaml.safe_load(SERVERLESS_YML.read_text(encoding="utf-8"))
    return config


@pytest.fixture(scope="session")
def contract() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    return body


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    if not (ROOT / "node_modules" / "serverless").is_dir():
        pytest.fail("node_modules/serverless is missing: run `npm ci` in the repository root first")
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail("npx (Node.js) is not on PATH")
    directory = tmp_path_factory.mktemp("sls-package")
    command = [npx, "--no", "serverless", "package", "--stage", STAGE, "--package", str(directory)]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=_package_env(),
        capture_output=True,
        text=True,
        timeout=PACKAGE_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"serverless package failed ({result.returncode}):\n{output}")
    template_path = directory / "cloudformation-template-update-stack.json"
    template: dict[str, Any] = json.loads(template_path.read_text(encoding="utf-8"))
    return Packaged(
        directory=directory,
        template_path=template_path,
        template=template,
        zip_path=directory / "ponto.zip",
        seconds=seconds,
        output=output,
    )
