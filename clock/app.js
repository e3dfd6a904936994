// The web clock's behaviour: setup, sign-in, punching (kiosk or personal), sending the outbox, waiting
// for receipts. What is on screen is view.js's.

import * as api from "./api.js";
import * as cognito from "./auth.js";
import {
  EMPLOYEE_ID,
  configFromCode,
  loadAuth,
  loadConfig,
  resetConfig,
  saveAuth,
  saveConfig,
  sendContext,
  setupCodeFrom,
} from "./config.js";
import * as delivery from "./delivery.js";
import { t, translate } from "./i18n.js";
import * as outbox from "./outbox.js";
import { state } from "./state.js";
import { correctedNow, noteServerDate, rfc3339 } from "./time.js";
import {
  $,
  HISTORY_MS,
  LOCALE,
  currentEmployeeId,
  element,
  errorText,
  receiptOf,
  renderAlert,
  renderDevice,
  renderEmployee,
  renderHistory,
  renderKinds,
  renderMode,
  renderNet,
  renderPending,
  renderReceipt,
  renderSettings,
  say,
  setBusy,
  show,
  showReceipt,
  tick,
} from "./view.js";

const DOUBLE_TAP_MS = 2000;
const CHECK_BEFORE_PUNCH_MS = 5000;
const CHECK_DEBOUNCE_MS = 600;
const KIOSK_IDLE_MS = 120000;
const OFFLINE_RECHECK_MS = 30000;
const TIME_SYNC_MS = 10 * 60000;
const SEALED_SHOWN = 20;

// ---------------------------------------------------------------- configuration and sign-in

async function publishContext() {
  state.context = sendContext(state.config, state.auth);
  await delivery.publishContext(state.context);
}

function applySetupCode(code) {
  const config = configFromCode(code, location.origin);
  saveConfig(config);
  if (state.config?.mode !== config.mode || state.config?.cognito?.client_id !== config.cognito?.client_id) {
    saveAuth(null);
    state.auth = null;
  }
  state.config = config;
}

/** A setup link opened on this page (#setup=…): store the configuration, then drop it from the URL. */
function setupFromHash() {
  const code = setupCodeFrom(location.hash);
  if (!code) return false;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    applySetupCode(code);
    say(t("setup_done"), "ok");
    setTimeout(() => $("punch-status").textContent === t("setup_done") && say(""), 5000);
  } catch {
    $("setup-error").textContent = t("setup_invalid");
    show("setup-error", true);
  }
  return true;
}

async function onSetupSubmit(event) {
  event.preventDefault();
  const code = setupCodeFrom($("setup-link").value);
  try {
    if (!code) throw new Error("no code");
    applySetupCode(code);
  } catch {
    $("setup-error").textContent = t("setup_invalid");
    show("setup-error", true);
    $("setup-link").focus();
    return;
  }
  show("setup-error", false);
  $("setup-link").value = "";
  await configured();
  say(t("setup_done"));
}

/** After the configuration or the sign-in changed. */
async function configured() {
  await publishContext();
  resetEmployee();
  renderMode();
  await reloadItems();
  if (state.config?.mode === "personal" && state.auth?.employee_id) void checkEmployee(state.auth.employee_id);
  void runFlush(true);
}

function signInFailed(error) {
  const reason = error.kind === "network" ? t("signin_network") : t("signin_wrong");
  $("signin-error").textContent = t("signin_failed", { reason });
  show("signin-error", true);
}

async function onSignIn(event) {
  event.preventDefault();
  const username = $("signin-username").value.trim();
  try {
    const result = await cognito.signIn(state.config.cognito, username, $("signin-password").value);
    $("signin-password").value = "";
    if (result.challenge) {
      state.signInSession = { username, session: result.session };
      show("signin-form", false);
      show("new-password-form", true);
      show("signin-error", false);
      $("new-password-username").value = username;
      $("new-password").focus();
      return;
    }
    await signedIn(result.auth);
  } catch (error) {
    signInFailed(error);
  }
}

async function onNewPassword(event) {
  event.preventDefault();
  const { username, session } = state.signInSession ?? {};
  try {
    const auth = await cognito.setNewPassword(state.config.cognito, username, $("new-password").value, session);
    $("new-password").value = "";
    await signedIn(auth);
  } catch (error) {
    signInFailed(error);
  }
}

async function signedIn(auth) {
  state.auth = auth;
  state.signInSession = null;
  saveAuth(auth);
  show("signin-error", false);
  show("signin-form", true);
  show("new-password-form", false);
  await configured();
}

async function signOut() {
  state.auth = null;
  saveAuth(null);
  await configured();
}

/**
 * Personal mode: a fresh ID token when it is about to expire, or at once (force: the API said 401).
 * Answers whether the employee is still signed in; a refused refresh asks them to sign in again.
 */
async function refreshTokens(force = false) {
  const current = state.auth;
  if (state.config?.mode !== "personal" || !current) return false;
  if (!force && current.expires_at - Date.now() > 5 * 60000) return true;
  if (!current.refresh_token || !navigator.onLine) return !force;
  try {
    state.auth = await cognito.refresh(state.config.cognito, current);
    saveAuth(state.auth);
    await publishContext();
    return true;
  } catch (error) {
    if (error.kind === "refused") await sessionExpired();
    return false;
  }
}

/** A 401 in personal mode: the token expired or was revoked; refresh it once, else sign in again. */
async function unauthorized() {
  if (state.config?.mode !== "personal" || !state.auth) return;
  // A token refreshed a minute ago and refused again will not do better: sign in.
  const recently = Date.now() - (state.forcedRefreshAt ?? 0) < 60000;
  state.forcedRefreshAt = Date.now();
  if (!recently && (await refreshTokens(true))) void runFlush(true);
  else if (state.auth) await sessionExpired();
}

async function sessionExpired() {
  state.auth = null;
  saveAuth(null);
  await publishContext();
  renderMode();
  $("signin-error").textContent = t("session_expired");
  show("signin-error", true);
}

// ---------------------------------------------------------------- the clock

/**
 * Reads the server's time before any API call is made (a kiosk's first tap, the clock shown): the
 * Date header of a small file of the clock's own origin, past the service worker's cache (its query).
 */
async function syncTime() {
  if (!navigator.onLine) return;
  try {
    const response = await fetch(`icon.svg?time-sync=${Date.now()}`, { cache: "no-store" });
    noteServerDate(response.headers.get("Date"), Date.now());
  } catch {
    // no network: the API's next answer corrects the clock
  }
}

// ---------------------------------------------------------------- employees

function resetEmployee() {
  state.checkSeq += 1;
  state.employee = { id: "", status: "none", name: null, receipts: null };
  renderEmployee();
  renderHistory();
  renderKinds();
}

/** Looks the employee up (their last 48 hours of receipts): known, unknown (404), or unchecked. */
async function checkEmployee(employeeId) {
  const seq = ++state.checkSeq;
  state.employee = { id: employeeId, status: "checking", name: null, receipts: null };
  renderEmployee();
  const since = rfc3339(correctedNow() - HISTORY_MS);
  const result = navigator.onLine ? await api.listReceipts(state.context, employeeId, since) : { network: true };
  if (seq !== state.checkSeq) return;
  const employee = { id: employeeId, status: "unchecked", name: null, receipts: null };
  if (result.status === 200 || result.status === 404) state.knownEmployees.set(employeeId, result.status === 200);
  if (result.status === 200) {
    const receipts = Array.isArray(result.body?.receipts) ? result.body.receipts : [];
    employee.status = "known";
    employee.receipts = receipts;
    employee.name = receipts.at(-1)?.employee?.name ?? null;
  } else if (result.status === 404) {
    employee.status = "unknown";
  } else if (result.status === 401 && state.config?.mode === "personal") {
    await unauthorized();
  } else if (result.status >= 400) {
    employee.error = result.status;
  }
  state.employee = employee;
  renderEmployee();
  renderHistory();
  renderKinds();
}

function scheduleCheck() {
  clearTimeout(state.checkTimer);
  const employeeId = currentEmployeeId();
  if (employeeId === state.employee.id && state.employee.status !== "none") return;
  if (!EMPLOYEE_ID.test(employeeId)) {
    state.checkSeq += 1;
    state.employee = { id: employeeId, status: employeeId ? "invalid" : "none", name: null, receipts: null };
    renderEmployee();
    renderHistory();
    renderKinds();
    return;
  }
  state.checkTimer = setTimeout(() => void checkEmployee(employeeId), CHECK_DEBOUNCE_MS);
}

// ---------------------------------------------------------------- punching

function whoIs(employeeId) {
  if (state.config?.mode === "personal") return state.auth?.name ?? employeeId;
  if (state.employee.id === employeeId && state.employee.name) return state.employee.name;
  return `${t("employee_id_label")} ${employeeId}`;
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
}

async function punch(kind) {
  if (state.busy) return;
  const employeeId = currentEmployeeId();
  if (!EMPLOYEE_ID.test(employeeId)) {
    say(t(employeeId ? "employee_id_invalid" : "employee_id_required"), "error");
    if (state.config?.mode === "kiosk") $("employee-id").focus();
    return;
  }
  // A second tap for the same employee within 2 s is the same intention: one punch.
  if (state.lastTap.employeeId === employeeId && Date.now() - state.lastTap.at < DOUBLE_TAP_MS) return;
  clearTimeout(state.checkTimer);
  setBusy(true);
  try {
    if (state.config.mode === "kiosk" && navigator.onLine) {
      const checked = state.employee.id === employeeId && ["known", "unknown"].includes(state.employee.status);
      if (!checked) await withTimeout(checkEmployee(employeeId), CHECK_BEFORE_PUNCH_MS);
      if (state.employee.id === employeeId && state.employee.status === "unknown") {
        say(t("employee_unknown", { id: employeeId }), "error");
        $("employee-id").focus();
        return;
      }
    }
    const punchedAt = correctedNow();
    const body = {
      punch_id: crypto.randomUUID(),
      employee_id: employeeId,
      punched_at: rfc3339(punchedAt),
      kind,
      offline: !navigator.onLine,
    };
    const item = {
      punch_id: body.punch_id,
      body,
      who: whoIs(employeeId),
      state: "queued",
      created_at: Date.now(),
      attempts: 0,
      next_attempt_at: 0,
      error: null,
    };
    await outbox.add(item); // durable before anything is sent
    state.lastTap = { employeeId, at: Date.now() };
    state.lastPunchId = item.punch_id;
    state.receipt = null;
    renderReceipt();
    say(t("punch_saved", { who: item.who }));
    await reloadItems();
    const outcome = await delivery.sendOne(state.context, item.punch_id);
    if (outcome === "accepted") say(t("punch_sent"));
    else if (outcome === "offline" || outcome === "retry") say(t("punch_pending"), "pending");
    else if (outcome === "auth" || outcome === "failed") {
      const stored = await outbox.get(item.punch_id);
      say(errorText(stored?.error), "error");
      if (stored?.error?.status === 401) await unauthorized();
    }
    if (outcome !== "accepted") registerSync();
    await reloadItems();
    scheduleRetry();
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------- sending and receipts

function registerSync() {
  const registration = state.registration;
  if (registration && "sync" in registration) registration.sync.register(delivery.SYNC_TAG).catch(() => {});
}

async function runFlush(force = false) {
  if (state.flushing) {
    state.flushAgain = true;
    return;
  }
  state.flushing = true;
  let result = null;
  try {
    await refreshTokens();
    if (state.context) result = await delivery.flush({ force });
  } finally {
    state.flushing = false;
  }
  await reloadItems();
  if (result?.stoppedBy === "auth" && state.items.some((item) => item.error?.status === 401)) void unauthorized();
  if (state.flushAgain) {
    state.flushAgain = false;
    void runFlush(true);
    return;
  }
  scheduleRetry();
}

async function scheduleRetry() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  if (state.config?.mode === "personal" && !state.auth) return; // sent after the next sign-in
  const at = await delivery.nextAttemptAt();
  if (at === null) return;
  // Offline, the `online` event sends; the slow recheck covers a browser that misses it.
  const delay = navigator.onLine ? Math.max(500, at - Date.now()) : OFFLINE_RECHECK_MS;
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => void runFlush(false), delay);
}

let reloading = null;
let reloadAgain = false;

/** Reads the outbox again and redraws what depends on it (coalesced: the outbox announces every change). */
async function reloadItems() {
  if (reloading) {
    reloadAgain = true;
    return reloading;
  }
  reloading = (async () => {
    do {
      reloadAgain = false;
      state.items = await outbox.all();
    } while (reloadAgain);
    renderPending();
    renderDevice();
    renderAlert();
    renderKinds();
    ensurePolling();
  })();
  try {
    await reloading;
  } finally {
    reloading = null;
  }
}

function ensurePolling() {
  for (const item of state.items) {
    if (item.state === "accepted" && !state.polling.has(item.punch_id) && state.context) void poll(item);
  }
}

/**
 * Kiosk: is this employee registered here? A punch taken offline was not checked before it was
 * queued; the API accepts it, but an unknown employee's punch is never sealed (no receipt comes).
 */
async function employeeRegistered(employeeId) {
  if (state.config?.mode !== "kiosk") return true;
  if (!state.knownEmployees.has(employeeId) && navigator.onLine) {
    const result = await api.listReceipts(state.context, employeeId, rfc3339(correctedNow()));
    if (result.status === 200 || result.status === 404) state.knownEmployees.set(employeeId, result.status === 200);
  }
  return state.knownEmployees.get(employeeId) !== false;
}

async function poll(item) {
  const controller = new AbortController();
  state.polling.set(item.punch_id, controller);
  const employeeId = item.body.employee_id;
  const result = (await employeeRegistered(employeeId))
    ? await delivery.pollReceipt(state.context, item.punch_id, controller.signal)
    : { unknownEmployee: true };
  state.polling.delete(item.punch_id);
  if (result.unknownEmployee) {
    await outbox.update(item.punch_id, (it) =>
      it.state === "accepted" ? { ...it, state: "unconfirmed", error: { unknown_employee: employeeId } } : it,
    );
  } else if (result.receipt) {
    await sealed(item, result.receipt);
  } else if (result.timedOut) {
    await outbox.update(item.punch_id, (it) => (it.state === "accepted" ? { ...it, state: "unconfirmed" } : it));
    if (item.punch_id === state.lastPunchId) say(t("state_unconfirmed"), "pending");
  } else if (result.auth === 401) {
    await unauthorized();
  }
  await reloadItems();
}

async function sealed(item, receipt) {
  await outbox.remove(item.punch_id);
  state.sealed = [{ item, receipt }, ...state.sealed.filter((s) => s.item.punch_id !== item.punch_id)];
  state.sealed.length = Math.min(state.sealed.length, SEALED_SHOWN);
  const employeeId = receipt.employee?.employee_id ?? item.body.employee_id;
  if (state.employee.id === employeeId && state.employee.receipts) {
    if (!state.employee.receipts.some((r) => r.punch_id === receipt.punch_id)) {
      state.employee.receipts = [...state.employee.receipts, receipt];
    }
    state.employee.name ??= receipt.employee?.name ?? null;
    renderEmployee();
    renderHistory();
  }
  if (item.punch_id === state.lastPunchId || !state.receipt) {
    state.receipt = receipt;
    renderReceipt();
  }
  if (item.punch_id === state.lastPunchId) say(t("punch_sealed", { nsr: receipt.nsr }), "ok");
}

async function checkAgain(punchId) {
  const item = state.items.find((it) => it.punch_id === punchId);
  if (item) state.knownEmployees.delete(item.body.employee_id); // HR may have registered them since
  await outbox.update(punchId, (it) => (it.state === "unconfirmed" ? { ...it, state: "accepted", error: null } : it));
  await reloadItems();
}

async function dismiss(punchId) {
  await outbox.remove(punchId);
  await reloadItems();
}

async function downloadPdf() {
  const receipt = state.receipt;
  if (!receipt) return;
  const status = $("receipt-status");
  status.textContent = "";
  const result = await api.getReceiptPdf(state.context, receipt.punch_id);
  if (result.network) {
    status.textContent = t("pdf_network");
    return;
  }
  if (result.status !== 200 || !result.blob) {
    status.textContent = t("pdf_failed", { status: result.status });
    return;
  }
  const url = URL.createObjectURL(result.blob);
  const link = element("a", { attrs: { href: url, download: `comprovante-nsr-${receipt.nsr}.pdf` } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function copyHash() {
  const hash = state.receipt?.hash;
  if (!hash) return;
  try {
    await navigator.clipboard.writeText(hash);
  } catch {
    // No clipboard permission: select the hash so that it can be copied by hand.
    const code = document.querySelector("#receipt-fields code");
    if (code) getSelection()?.selectAllChildren(code);
  }
  $("copy-hash").textContent = t("copied");
  setTimeout(() => {
    $("copy-hash").textContent = t("copy");
  }, 2000);
}

// ---------------------------------------------------------------- settings

async function onReset() {
  const reset = $("reset-config");
  if (reset.dataset.confirm !== "true") {
    reset.dataset.confirm = "true";
    reset.textContent = t("settings_reset_confirm");
    const count = state.items.filter((item) => item.state === "queued").length;
    if (count) {
      $("settings-pending").textContent = t("settings_reset_pending", { count });
      show("settings-pending", true);
    }
    return;
  }
  resetConfig();
  state.config = null;
  state.auth = null;
  state.receipt = null;
  state.sealed = [];
  for (const controller of state.polling.values()) controller.abort();
  $("settings").close();
  renderReceipt();
  await configured();
  $("setup-link").focus();
}

// ---------------------------------------------------------------- kiosk idle reset

function kioskIdle() {
  clearTimeout(state.idleTimer);
  if (state.config?.mode !== "kiosk") return;
  state.idleTimer = setTimeout(() => {
    if (state.busy || state.polling.size > 0) return kioskIdle();
    $("employee-id").value = "";
    state.receipt = null;
    state.sealed = [];
    state.lastPunchId = null;
    say("");
    resetEmployee();
    renderReceipt();
    renderDevice();
  }, KIOSK_IDLE_MS);
}

// ---------------------------------------------------------------- start

function wire() {
  $("setup-form").addEventListener("submit", (event) => void onSetupSubmit(event));
  $("signin-form").addEventListener("submit", (event) => void onSignIn(event));
  $("new-password-form").addEventListener("submit", (event) => void onNewPassword(event));
  $("sign-out").addEventListener("click", () => void signOut());
  for (const button of document.querySelectorAll("button.kind")) {
    button.addEventListener("click", () => void punch(button.dataset.kind));
  }
  const input = $("employee-id");
  input.addEventListener("input", () => {
    renderKinds();
    scheduleCheck();
  });
  // No check on "change": it fires on the pointerdown that leaves the field for a kind button, and
  // a status line changing height then would move the button from under the finger.
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(state.checkTimer);
    const employeeId = currentEmployeeId();
    if (EMPLOYEE_ID.test(employeeId) && employeeId !== state.employee.id) void checkEmployee(employeeId);
    (document.querySelector("button.kind.suggested") ?? document.querySelector("button.kind"))?.focus();
  });
  for (const list of [$("device-list"), $("history-list")]) {
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const punchId = button.dataset.punchId;
      if (button.dataset.action === "dismiss") void dismiss(punchId);
      else if (button.dataset.action === "check-again") void checkAgain(punchId);
      else if (button.dataset.action === "view" && receiptOf(punchId)) showReceipt(receiptOf(punchId));
    });
  }
  $("copy-hash").addEventListener("click", () => void copyHash());
  $("download-pdf").addEventListener("click", () => void downloadPdf());
  $("close-receipt").addEventListener("click", () => {
    state.receipt = null;
    renderReceipt();
  });
  $("open-settings").addEventListener("click", () => {
    renderSettings();
    $("settings").showModal();
  });
  $("close-settings").addEventListener("click", () => $("settings").close());
  $("reset-config").addEventListener("click", () => void onReset());
  addEventListener("online", () => {
    renderNet();
    void syncTime();
    void runFlush(true);
  });
  addEventListener("offline", renderNet);
  addEventListener("hashchange", () => {
    if (setupFromHash()) void configured();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void runFlush(false);
  });
  for (const type of ["pointerdown", "keydown", "input"]) addEventListener(type, kioskIdle, { passive: true });
  if (typeof BroadcastChannel !== "undefined") {
    new BroadcastChannel(outbox.CHANGED_CHANNEL).onmessage = () => void reloadItems();
  }
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    state.registration = await navigator.serviceWorker.register("sw.js", { type: "module" });
    await navigator.serviceWorker.ready;
    document.body.dataset.offlineReady = "true"; // the app shell is cached: a start without network works
  } catch {
    // No service worker (an old browser, a private window): the page still keeps and sends the outbox.
  }
}

async function start() {
  document.documentElement.lang = LOCALE;
  document.title = t("app_title");
  translate(document);
  api.observeServerDate(noteServerDate);
  state.config = loadConfig();
  setupFromHash();
  state.auth = loadAuth();
  wire();
  tick();
  void syncTime();
  setInterval(() => void syncTime(), TIME_SYNC_MS);
  await publishContext();
  renderMode();
  void registerServiceWorker();
  // Receipts still awaited when the page closed are polled again.
  for (const item of await outbox.all()) {
    if (item.state === "unconfirmed") await outbox.update(item.punch_id, (it) => ({ ...it, state: "accepted" }));
  }
  await reloadItems();
  if (state.config?.mode === "personal" && state.auth) {
    await refreshTokens();
    if (state.auth?.employee_id) void checkEmployee(state.auth.employee_id);
  }
  kioskIdle();
  await runFlush(true);
  document.body.dataset.ready = "true";
}

void start();
