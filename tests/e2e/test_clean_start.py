"""A clean first start of `ponto local` prints no warnings, even where XDG_RUNTIME_DIR is unset (containers,
CI, ssh sessions: the embedded PostgreSQL's dependency platformdirs warns there), and its status line
names each figure's scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import READY, start_stack, stop_stack

pytestmark = pytest.mark.e2e


def test_a_clean_start_prints_no_warning(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    stack = start_stack(scratch / "stack", cwd=scratch)
    try:
        started = stack.output[: next(i for i, line in enumerate(stack.output) if READY in line) + 1]
        assert started[0] == "starting PostgreSQL (embedded) ...", started
        assert not [line for line in started if "warning" in line.lower()], "\n".join(started)
        assert stack.status().line().startswith("this run: received 0 | all time: recorded ")
    finally:
        stop_stack(stack)
