"""The local gateway's key store: several keys, each with its id; a key added while it runs is seen."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ponto.contract import load_contract
from ponto.local import keys
from ponto.local.gateway import Gateway, api_key_id
from ponto.local.keys import KeyStore, add_key
from tests.events import v1_body
from tests.unit.test_gateway import MemoryQueue, post


def test_each_key_has_its_own_id_on_the_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two devices' keys in the store
    first, second = add_key(tmp_path, "key-one"), add_key(tmp_path, "key-two")
    assert (first, second) == (api_key_id("key-one"), api_key_id("key-two"))
    queue = MemoryQueue()
    gateway = Gateway(load_contract(), KeyStore(tmp_path))
    # When each sends a punch
    for key in ("key-one", "key-two"):
        response, _ = post(gateway, queue, v1_body(), key=key)
        assert response.status == 202
    # Then each message carries the id of the key that sent it: the worker resolves its device by it
    assert [attributes["apiKeyId"]["StringValue"] for _, attributes in queue.messages] == [first, second]
    # And an unknown key is refused as API Gateway refuses it
    response, body = post(gateway, queue, v1_body(), key="key-three")
    assert (response.status, body) == (403, {"message": "Forbidden"})


def test_a_key_added_later_is_seen_within_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("ponto.local.keys.time.monotonic", lambda: clock[0])
    store = KeyStore(tmp_path)
    assert store.key_id("later") is None
    add_key(tmp_path, "later")
    clock[0] += 1.0
    assert store.key_id("later") == api_key_id("later")


def test_the_key_file_is_for_its_owner_only(tmp_path: Path) -> None:
    add_key(tmp_path, "secret-key")
    mode = stat.S_IMODE(os.stat(keys.keys_path(tmp_path)).st_mode)
    assert mode == 0o600
    assert add_key(tmp_path, "secret-key") == api_key_id("secret-key")  # idempotent
    assert keys.load_keys(tmp_path) == {"secret-key": api_key_id("secret-key")}


def test_a_broken_file_keeps_the_keys_already_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr("ponto.local.keys.time.monotonic", lambda: clock[0])
    add_key(tmp_path, "kept")
    store = KeyStore(tmp_path)
    keys.keys_path(tmp_path).write_text("{not json", encoding="utf-8")
    clock[0] += 5
    assert store.key_id("kept") == api_key_id("kept")
