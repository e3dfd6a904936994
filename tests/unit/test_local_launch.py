"""The command lines that start `ponto local` survive any API key, including one that starts with "-"."""

from pathlib import Path

from ponto.cli import build_parser
from ponto.local.launcher import LocalStack
from ponto.local.state import new_api_key


def test_a_key_that_looks_like_an_option_reaches_ponto_local_intact(tmp_path: Path) -> None:
    key = "-Xk3y_that-starts-with-a-dash"
    stack = LocalStack(
        "ponto", tmp_path / "stack", key, tmp_path / "log", database_url="postgresql://u@h/db", port=3999
    )
    args = build_parser().parse_args(stack.command()[1:])
    assert args.command == "local"
    assert args.port == 3999
    assert args.api_key == key
    assert args.data_dir == tmp_path / "stack"
    assert args.database_url == "postgresql://u@h/db"


def test_generated_keys_are_long_distinct_and_never_start_with_a_dash() -> None:
    keys = {new_api_key() for _ in range(500)}
    assert len(keys) == 500
    assert all(len(key) >= 20 and not key.startswith("-") and key.isalnum() for key in keys)
