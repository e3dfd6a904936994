# One command runs every check a change must pass: `make check`.
VENV := .venv/bin

.PHONY: install check lint test test-fast

install:
	scripts/bootstrap

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

test:
	$(VENV)/pytest

# Unit tier only: no sockets, well under a second.
test-fast:
	$(VENV)/pytest tests/unit -q

check: lint test
