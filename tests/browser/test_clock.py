"""The web clock (clock/) in a real browser against `ponto local`: punching online and offline, a gateway
restart, double taps, unknown employees, a device key the API refuses, a device clock that is wrong,
personal mode's sign-in. Nothing here is mocked: the page, its service worker and IndexedDB run in
chromium; the API, the queue, the worker, PostgreSQL and the user pool are the local stack's."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import SEAL_MS, WAIT_MS, Clock, new_clock, printed_setup_link, setup_link
from tests.e2e.conftest import RunningStack, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_CNPJ = "12345678000195"  # the establishment `ponto local` seeds, employees 1..50


ONCE = (1, 1)  # one row in punches, one seal in afd_records


def recorded(stack: RunningStack, punch_ids: list[str]) -> dict[str, tuple[int, int]]:
    """punch id -> (its rows in punches, its seals in afd_records)."""
    rows = stack.sql(
        "SELECT p.punch_id, count(*), count(a.nsr) FROM punches p LEFT JOIN afd_records a USING (punch_id)"
        " WHERE p.punch_id = ANY(%s) GROUP BY p.punch_id",
        punch_ids,
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def seals(stack: RunningStack, punch_ids: list[str]) -> dict[str, tuple[int, bool, dict[str, Any]]]:
    """punch id -> (NSR, offline flag of the type-7 line, the body as the clock sent it)."""
    rows = stack.sql(
        "SELECT a.punch_id, a.nsr, substr(a.line, 73, 1), p.raw FROM afd_records a JOIN punches p USING (punch_id)"
        " WHERE a.punch_id = ANY(%s)",
        punch_ids,
    )
    return {row[0]: (int(row[1]), row[2] == "1", row[3]) for row in rows}


def queue_drained(stack: RunningStack) -> bool:
    status = stack.status()
    return status.queue == 0 and status.in_flight == 0


def test_online_punch_shows_the_receipt_with_its_nsr(kiosk: Clock) -> None:
    page = kiosk.page
    # Given a kiosk set up by its link (the link is gone from the address bar)
    assert "#setup" not in page.url
    assert page.inner_text("#net-status") == "conectado"
    kiosk.type_employee("10")
    kiosk.wait_employee_known()
    assert "sugerido" in page.inner_text(kiosk.kind("in")).lower()
    kiosk.screenshot("kiosk.png")

    # When the employee taps "Entrada"
    page.click(kiosk.kind("in"))

    # Then the receipt comes, with the NSR the record gave the punch
    page.wait_for_selector("#receipt:not([hidden])", timeout=SEAL_MS)
    [punch_id] = kiosk.rows("sealed")
    nsr, offline, body = seals(kiosk.stack, [punch_id])[punch_id]
    assert page.inner_text("#receipt [data-field=nsr]") == str(nsr)
    receipt_text = page.inner_text("#receipt")
    assert "Comprovante de Registro de Ponto do Trabalhador" in receipt_text
    assert "Funcionário Demo 10" in receipt_text and "Entrada" in receipt_text
    assert page.locator("#receipt-offline").is_hidden() and not offline
    assert f"NSR {nsr}" in page.inner_text("#history")
    # The body is v1 exactly: the device's offset, whole seconds, the kiosk's corrected time.
    assert set(body) == {"punch_id", "employee_id", "punched_at", "kind", "offline"}
    assert body["employee_id"] == "10" and body["kind"] == "in" and body["offline"] is False
    assert body["punched_at"].endswith("-03:00") and len(body["punched_at"]) == 25
    assert abs(datetime.fromisoformat(body["punched_at"]) - datetime.now(UTC)) < timedelta(seconds=30)
    kiosk.screenshot("receipt.png")
    # The next tap for the same employee is suggested from their last punch.
    assert "sugerido" in page.inner_text(kiosk.kind("break_start")).lower()

    # The receipt's signed PDF downloads; its hash copies
    with page.expect_download(timeout=WAIT_MS) as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == f"comprovante-nsr-{nsr}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    kiosk.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-hash")
    page.wait_for_selector("#copy-hash >> text=Copiado")
    assert page.evaluate("navigator.clipboard.readText()") == page.inner_text("#receipt [data-field=hash]")


def test_offline_punches_survive_a_reload_and_are_sent_once(kiosk: Clock) -> None:
    page = kiosk.page
    # Given the clock's service worker has cached the app, and the network is cut
    page.wait_for_selector("body[data-offline-ready=true]", state="attached")
    kiosk.network_cut = True
    kiosk.context.set_offline(True)
    page.wait_for_function("() => document.querySelector('#net-status').textContent === 'sem conexão'")

    # When three employees punch
    for employee_id in ("21", "22", "23"):
        kiosk.type_employee(employee_id)
        page.click(kiosk.kind("in"))
        page.wait_for_selector(f"#device-list li[data-state=queued] >> text=Matrícula {employee_id}")
    # Then all three are pending, on screen and announced
    pending = kiosk.wait_rows("queued", 3)
    assert page.inner_text("#pending-count") == "3 pontos pendentes de envio"
    assert "guardado no aparelho" in page.inner_text("#punch-status")
    page.wait_for_selector("#punch[aria-busy=false]", state="attached")
    kiosk.screenshot("pending.png")

    # When the page is reloaded while still offline (the service worker serves the app shell)
    page.reload()
    kiosk.wait_ready()
    # Then the three are still pending
    assert sorted(kiosk.wait_rows("queued", 3)) == sorted(pending)
    assert kiosk.stack.sql("SELECT count(*) FROM punches WHERE punch_id = ANY(%s)", pending) == [(0,)]

    # When the network is back
    kiosk.context.set_offline(False)
    # Then each is recorded exactly once, sealed as offline, and its receipt shown
    assert sorted(kiosk.wait_rows("sealed", 3, SEAL_MS)) == sorted(pending)
    assert page.inner_text("#pending-count") == "Nenhum ponto pendente"
    wait_for(lambda: queue_drained(kiosk.stack), 30, "the queue to drain")
    assert recorded(kiosk.stack, pending) == dict.fromkeys(pending, ONCE)
    sealed = seals(kiosk.stack, pending)
    assert all(offline and body["offline"] is True for _, offline, body in sealed.values())
    for punch_id, (nsr, _, _) in sealed.items():
        row = page.locator(f"#device-list li[data-punch-id='{punch_id}']")
        assert f"NSR {nsr}" in row.inner_text() and "registrado sem conexão" in row.inner_text()
    page.wait_for_selector("#receipt:not([hidden])")
    assert page.locator("#receipt-offline").is_visible()


def process_alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return status != "zombie"  # psutil.STATUS_ZOMBIE


def gateway_accepts_connections(stack: RunningStack) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", stack.port), timeout=0.2):
            return True
    except OSError:
        return False


def stop_gateway(stack: RunningStack) -> int:
    """SIGTERM to the stack's gateway; returns once it has exited and nothing listens on its port yet
    (if its successor was already up, that one is stopped too). Returns the last pid stopped."""
    for _ in range(3):
        pid = stack.pid("gateway")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not process_alive(pid), (
            "the gateway did not exit within 10 s of SIGTERM: it keeps serving the browser's idle keep-alive"
            " connections (asyncio's Server.wait_closed waits for them), so ponto local cannot restart it"
        )
        if not gateway_accepts_connections(stack):
            return pid

        def replaced(stopped: int = pid) -> bool:
            try:
                return stack.pid("gateway") != stopped
            except OSError:  # the pid file between two gateways
                return False

        wait_for(replaced, 10, "the gateway's pid file")
    raise AssertionError("the gateway was back before the test could punch while it was down")


def test_a_gateway_restart_while_punching_loses_nothing(kiosk: Clock) -> None:
    page = kiosk.page
    kiosk.type_employee("31")
    kiosk.wait_employee_known()
    # Given the gateway is stopped; the stack's supervisor starts a new one about a second after it exits
    stopped = stop_gateway(kiosk.stack)
    kiosk.network_cut = True  # the browser logs the refused connections

    # When the employee punches while no gateway is listening
    page.click(kiosk.kind("in"))
    # Then the punch is pending, with no error shown
    page.wait_for_selector("#device-list li[data-state=queued]")
    assert "guardado no aparelho" in page.inner_text("#punch-status")

    # When the new gateway is up, the pending punch goes out by itself; a punch after the restart goes too
    wait_for(lambda: gateway_accepts_connections(kiosk.stack), 15, "the gateway's restart")
    assert kiosk.stack.pid("gateway") != stopped
    # (by keyboard alone: the id, Enter to the suggested kind, Enter to punch)
    page.fill("#employee-id", "")
    page.focus("#employee-id")
    page.keyboard.type("32")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.kind") == "in"
    page.keyboard.press("Enter")
    punch_ids = kiosk.wait_rows("sealed", 2, SEAL_MS)
    # Then both are recorded exactly once, and the user never saw more than "pending"
    assert page.locator("#alert").is_hidden()
    assert kiosk.rows("failed") == []
    assert page.get_attribute("#punch-status", "data-tone") != "error"
    wait_for(lambda: queue_drained(kiosk.stack), 30, "the queue to drain")
    assert recorded(kiosk.stack, punch_ids) == dict.fromkeys(punch_ids, ONCE)
    # The first was taken while the API could not be reached: sealed as an offline punch.
    offline = {seal[2]["employee_id"]: seal[1] for seal in seals(kiosk.stack, punch_ids).values()}
    assert offline == {"31": True, "32": False}


def test_a_double_tap_makes_one_punch(kiosk: Clock) -> None:
    page = kiosk.page
    kiosk.type_employee("41")
    kiosk.wait_employee_known()
    # When the employee double-taps, then taps once more within two seconds
    page.dblclick(kiosk.kind("in"))
    page.wait_for_timeout(300)
    page.click(kiosk.kind("in"))
    # Then there is one punch
    [punch_id] = kiosk.wait_rows("sealed", 1, SEAL_MS)
    wait_for(lambda: queue_drained(kiosk.stack), 30, "the queue to drain")
    assert kiosk.stack.sql("SELECT punch_id FROM punches WHERE employee_id = '41'") == [(punch_id,)]
    assert len(kiosk.rows()) == 1


def test_an_unknown_employee_id_gets_a_clear_message(kiosk: Clock) -> None:
    page = kiosk.page
    kiosk.allowed.append(re.compile(r"/employees/no-such-99/receipts"))
    # When an id this establishment does not know is typed
    kiosk.type_employee("no-such-99")
    # Then the kiosk says so, before any punch
    page.wait_for_selector("#employee-status >> text=não encontrada neste estabelecimento")
    assert page.get_attribute("#employee-id", "aria-invalid") == "true"
    # And a tap makes no punch
    page.click(kiosk.kind("in"))
    assert "Matrícula no-such-99 não encontrada" in page.inner_text("#punch-status")
    assert kiosk.rows() == []
    assert kiosk.stack.sql("SELECT count(*) FROM punches WHERE employee_id = 'no-such-99'") == [(0,)]

    # When the id was typed offline, the punch is queued unchecked and sent when the network is back
    kiosk.network_cut = True
    kiosk.context.set_offline(True)
    kiosk.type_employee("no-such-98")
    kiosk.allowed.append(re.compile(r"/employees/no-such-98/receipts"))
    page.click(kiosk.kind("in"))
    page.wait_for_selector("#device-list li[data-state=queued]")
    kiosk.context.set_offline(False)
    # Then, since no receipt will ever come, the kiosk says why instead of waiting for it
    row = page.locator("#device-list li[data-state=unconfirmed]")
    row.wait_for()
    assert "Matrícula no-such-98 não encontrada" in row.inner_text()
    assert "Verificar de novo" in row.inner_text() and "Dispensar" in row.inner_text()

    # The settings show the configuration and can reset it
    page.click("#open-settings")
    settings = page.inner_text("#settings")
    assert f"http://127.0.0.1:{kiosk.stack.port}" in settings and "quiosque" in settings
    assert kiosk.stack.api_key not in settings
    page.click("#reset-config")
    page.click("#reset-config")
    page.wait_for_selector("#setup:not([hidden])")
    assert page.evaluate("localStorage.getItem('ponto.config')") is None


def test_a_refused_device_key_keeps_punches_until_the_device_is_set_up_again(
    browser: Browser, stack: RunningStack
) -> None:
    clock = new_clock(browser, stack)
    base_url = f"http://127.0.0.1:{stack.port}"
    clock.allowed.append(re.compile(r"/(punches|employees/.*)$"))  # the 403s this test expects
    try:
        # Given a kiosk set up with a key the API does not know
        clock.open(setup_link(base_url, mode="kiosk", key="not-a-key"))
        clock.type_employee("45")
        # When a punch is refused with 403
        clock.page.click(clock.kind("in"))
        clock.page.wait_for_selector("#alert:not([hidden])")
        # Then the message says what is wrong and what to do, and the punch stays pending
        alert = clock.page.inner_text("#alert")
        assert "não está autorizado" in alert and "novo link de configuração" in alert
        [punch_id] = clock.wait_rows("queued", 1)
        # When the device is set up again with a valid key, the pending punch is sent
        clock.page.goto(setup_link(base_url, mode="kiosk", key=stack.api_key))
        clock.wait_ready()
        assert clock.wait_rows("sealed", 1, SEAL_MS) == [punch_id]
        assert clock.page.locator("#alert").is_hidden()
        wait_for(lambda: queue_drained(stack), 30, "the queue to drain")
        assert recorded(stack, [punch_id]) == {punch_id: ONCE}
    finally:
        clock.context.close()
    assert clock.errors == [], "console errors:\n" + "\n".join(clock.errors)


def test_the_clock_shows_server_time_on_a_device_whose_clock_is_wrong(browser: Browser, stack: RunningStack) -> None:
    clock = new_clock(browser, stack, viewport={"width": 390, "height": 844})  # a phone
    try:
        # Given a device whose clock is ten minutes slow
        wrong = datetime.now(UTC) - timedelta(minutes=10)
        clock.page.clock.install(time=wrong)
        clock.open(setup_link(f"http://127.0.0.1:{stack.port}", mode="kiosk", key=stack.api_key))
        # Then, after its first answer from the API, it shows the server's time, marked as such
        clock.page.wait_for_selector("#server-time:not([hidden])")
        shown = clock.page.get_attribute("#clock-time", "datetime")
        assert shown is not None
        assert abs(datetime.fromisoformat(shown) - datetime.now(UTC)) < timedelta(seconds=30)
        assert json.loads(clock.page.evaluate("localStorage.getItem('ponto.clock_offset_ms')")) > 500_000
    finally:
        clock.context.close()
    assert clock.errors == [], "console errors:\n" + "\n".join(clock.errors)


def test_personal_mode_signs_in_punches_and_signs_out(browser: Browser, stack: RunningStack) -> None:
    # Given employee 7 invited to sign in (a first password to change), on a phone in English
    invited = stack.cli("employee", "invite", "--employer", DEMO_CNPJ, "--id", "7", "--json")
    assert invited.returncode == 0, invited.stderr
    invite = json.loads(invited.stdout)
    clock = new_clock(browser, stack, viewport={"width": 390, "height": 844}, locale="en-US")
    page = clock.page
    try:
        clock.open(printed_setup_link(stack, "personal"))
        # When they sign in with the first password, then choose a new one
        page.fill("#signin-username", invite["username"])
        page.fill("#signin-password", invite["first_password"])
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#new-password-form:not([hidden])")
        page.fill("#new-password", "Nova-senha-2026")
        page.click("#new-password-form button[type=submit]")
        # Then they punch as themselves: no id to type
        page.wait_for_selector("#punch:not([hidden])")
        assert page.locator("#kiosk-employee").is_hidden()
        page.wait_for_selector("#signed-in-as >> text=(7)")
        page.click(clock.kind("in"))
        page.wait_for_selector("#receipt:not([hidden])", timeout=SEAL_MS)
        [punch_id] = clock.rows("sealed")
        nsr, _, body = seals(stack, [punch_id])[punch_id]
        assert body["employee_id"] == "7"
        assert page.inner_text("#receipt [data-field=nsr]") == str(nsr)
        assert "Punch recorded" in page.inner_text("#punch-status")
        assert "Funcionário Demo 7" in page.inner_text("#signed-in-as")
        # And signing out forgets the tokens
        page.click("#sign-out")
        page.wait_for_selector("#signin:not([hidden])")
        assert page.evaluate("localStorage.getItem('ponto.auth')") is None
    finally:
        clock.context.close()
    assert clock.errors == [], "console errors:\n" + "\n".join(clock.errors)
