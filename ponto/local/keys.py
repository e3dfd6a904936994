"""The local gateway's API keys: what API Gateway's keys and usage plan are on AWS.

<data-dir>/api_keys.json maps each key's value to its id (the `apiKeyId` the mapping template puts on
every message, which the worker resolves to a device). Readable by its owner only: it holds the keys.
`ponto device add` writes a key here; the running gateway sees it within a second.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from ponto.local.gateway import api_key_id

KEYS_FILE = "api_keys.json"
_RELOAD_EVERY_S = 1.0


def keys_path(data_dir: Path) -> Path:
    return data_dir / KEYS_FILE


def load_keys(data_dir: Path) -> dict[str, str]:
    try:
        keys = json.loads(keys_path(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(keys, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise ValueError(f"{KEYS_FILE} is not a map of key values to key ids")
    return keys


_WRITE_LOCK = threading.Lock()


def add_key(data_dir: Path, key: str) -> str:
    """Make `key` valid at the local gateway; return its id (idempotent)."""
    with _WRITE_LOCK:
        keys = load_keys(data_dir)
        keys[key] = api_key_id(key)
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = keys_path(data_dir).with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle, indent=2)
        temporary.replace(keys_path(data_dir))
    return keys[key]


class KeyStore:
    """The keys of api_keys.json, read again when the file changes (checked at most once a second)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._keys: dict[str, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._reload()

    def key_id(self, key: str | None) -> str | None:
        now = time.monotonic()
        if now - self._checked >= _RELOAD_EVERY_S:
            self._checked = now
            self._reload()
        return None if key is None else self._keys.get(key)

    def _reload(self) -> None:
        try:
            stat = keys_path(self._data_dir).stat()
        except FileNotFoundError:
            self._keys, self._stamp = {}, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                self._keys = load_keys(self._data_dir)
            except (OSError, ValueError):
                return  # a file being replaced: keep the keys we have, look again in a second
            self._stamp = stamp
