# One command runs every check a change must pass: `make check`.
VENV := .venv/bin

.PHONY: install local check lint test test-fast

# Command 1: install what is missing, then start the local stack in the foreground (ARGS="--port 3001" ...).
local:
	scripts/bootstrap --python
	$(VENV)/ponto local $(ARGS)

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
