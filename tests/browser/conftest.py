"""The web clock in Debian's chromium (headless, Playwright), against `ponto local` serving it at /."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.e2e.conftest import RunningStack, scratch_dir, start_stack, stop_stack, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots are refreshed on request (PONTO_SCREENSHOTS=1); otherwise a run keeps its own,
# so that the tests never change tracked files.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("PONTO_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "ponto-browser-screenshots"
)
WAIT_MS = 15_000  # any one thing on the page
SEAL_MS = 45_000  # a punch sent, batched (5 s window), sealed and its receipt polled

# Chromium logs every fetch answered 4xx as "Failed to load resource" at error level. A 404 while
# polling a receipt is the API saying "not sealed yet": expected, not a fault of the page.
RECEIPT_NOT_YET = re.compile(r"/punches/[0-9a-f-]{36}/receipt$")


def setup_link(base_url: str, **config: object) -> str:
    code = base64.urlsafe_b64encode(json.dumps(config).encode()).decode().rstrip("=")
    return f"{base_url}/#setup={code}"


@dataclass
class Clock:
    """One device: a browser context (its own localStorage and IndexedDB) with the clock open."""

    stack: RunningStack
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=lambda: [RECEIPT_NOT_YET])
    network_cut: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.stack.port}"

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url", ""))
        if message.text.startswith("Failed to load resource"):
            if any(pattern.search(url) for pattern in self.allowed):
                return
            if self.network_cut and "net::ERR_" in message.text:
                return
        self.errors.append(f"{message.text} ({url})")

    def open(self, link: str) -> None:
        self.page.goto(link)
        self.wait_ready()

    def wait_ready(self) -> None:
        self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=WAIT_MS)

    def type_employee(self, employee_id: str) -> None:
        self.page.fill("#employee-id", employee_id)

    def wait_employee_known(self) -> None:
        self.page.wait_for_function(
            "() => !document.querySelector('#employee-status').textContent.includes('Verificando')"
            " && document.querySelector('#history:not([hidden])') !== null",
            timeout=WAIT_MS,
        )

    def kind(self, kind: str) -> str:
        return f"button.kind[data-kind={kind}]"

    def rows(self, state: str | None = None) -> list[str]:
        selector = "#device-list li" + (f"[data-state={state}]" if state else "")
        return [str(row.get_attribute("data-punch-id")) for row in self.page.query_selector_all(selector)]

    def wait_rows(self, state: str, count: int, timeout_ms: int = WAIT_MS) -> list[str]:
        self.page.wait_for_function(
            "([state, count]) => document.querySelectorAll(`#device-list li[data-state=${state}]`).length === count",
            arg=[state, count],
            timeout=timeout_ms,
        )
        return self.rows(state)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=True, animations="disabled")


@pytest.fixture(scope="module")
def stack(playwright: Playwright) -> Iterator[RunningStack]:
    """One `ponto local` for the module (after the check for chromium, so a skip starts nothing)."""
    with scratch_dir() as path:
        running = start_stack(path / "stack", cwd=path)
        try:
            yield running
        finally:
            stop_stack(running)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (Debian's chromium package); the browser tests drive it")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, stack: RunningStack) -> Iterator[Browser]:
    """Closed before the stack stops: an open page holds keep-alive connections to the gateway."""
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


def gateway_healthy(stack: RunningStack) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/health", timeout=1) as response:
            status: int = response.status
    except OSError:
        return False
    return status == 200


def new_clock(
    browser: Browser, stack: RunningStack, *, viewport: ViewportSize | None = None, locale: str = "pt-BR"
) -> Clock:
    wait_for(lambda: gateway_healthy(stack), 30, "the gateway")  # a test may have just restarted it
    # A device in São Paulo: the device's offset is -03:00.
    context = browser.new_context(
        locale=locale,
        timezone_id="America/Sao_Paulo",
        viewport=viewport or {"width": 1100, "height": 900},
        service_workers="allow",
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    clock = Clock(stack, context, page)
    page.on("console", clock.on_console)
    page.on("pageerror", lambda error: clock.errors.append(f"page error: {error}"))
    return clock


def printed_setup_link(stack: RunningStack, mode: str = "kiosk") -> str:
    """A setup link `ponto local` prints: kiosk (the demo device's key) or personal (its user pool)."""
    for line in stack.output:
        found = re.search(rf"web clock \({mode}.*?: (http://\S+#setup=\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"ponto local printed no {mode} setup link for the web clock:\n" + "\n".join(stack.output))


@pytest.fixture
def kiosk(stack: RunningStack, browser: Browser) -> Iterator[Clock]:
    """A kiosk set up by the link `ponto local` prints; no console errors allowed."""
    clock = new_clock(browser, stack)
    clock.open(printed_setup_link(stack))
    yield clock
    clock.context.close()
    assert clock.errors == [], "console errors:\n" + "\n".join(clock.errors)
