"""Unit tests run with sockets disabled: they cannot reach a database or AWS."""

import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _no_sockets() -> object:
    disable_socket(allow_unix_socket=False)
    yield
    enable_socket()
