// What is on screen: the clock, the kind buttons and their suggestion, the outbox's punches, receipts,
// settings. Reads the shared state; never sends anything (buttons in lists carry a data-action that
// app.js handles).

import { lang, t } from "./i18n.js";
import { state } from "./state.js";
import { clockOffsetMs, correctedNow, formatRecordedTime, isCorrected, rfc3339 } from "./time.js";
import { EMPLOYEE_ID } from "./config.js";

export const HISTORY_MS = 48 * 3600 * 1000;
// What usually comes after an employee's last punch (none or a punch without a kind: "in").
const NEXT_KINDS = {
  none: ["in"],
  out: ["in"],
  in: ["break_start", "out"],
  break_start: ["break_end"],
  break_end: ["out"],
};

export const $ = (id) => document.getElementById(id);

export const LOCALE = lang === "pt" ? "pt-BR" : "en";

// ---------------------------------------------------------------- helpers

export function element(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

export function show(id, visible) {
  $(id).hidden = !visible;
}

export function say(text, tone = "info") {
  const status = $("punch-status");
  status.textContent = text;
  status.dataset.tone = tone;
}

const kindLabel = (kind) => (kind ? t(`kind_${kind}`) : t("kind_none"));

export function errorText(error) {
  if (!error || error.network) return "";
  if (error.unknown_employee) return t("employee_unknown", { id: error.unknown_employee });
  const { status } = error;
  if (status === 400) return t("error_400", { detail: error.detail || "?" });
  if (status === 401) return t("error_401");
  if (status === 403) return t(state.config?.mode === "personal" ? "error_403_personal" : "error_403_kiosk");
  if (status === 413) return t("error_413");
  if (status === 415) return t("error_415");
  if (status === 429) return t("error_429");
  if (status >= 500) return "";
  return t("error_other", { status });
}

function formatCpf(cpf, masked) {
  const digits = String(cpf || "");
  if (!/^\d{11}$/.test(digits)) return digits;
  const full = `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}`;
  return masked ? `***.${full.slice(4, 11)}-**` : full;
}

function formatDocument(type, document) {
  const digits = String(document || "");
  if (type === "CNPJ" && /^\d{14}$/.test(digits)) {
    const [a, b, c, d, e] = [[0, 2], [2, 5], [5, 8], [8, 12], [12, 14]].map(([from, to]) => digits.slice(from, to));
    return `${a}.${b}.${c}/${d}-${e}`;
  }
  if (type === "CPF") return formatCpf(digits, false);
  return digits;
}

// ---------------------------------------------------------------- the clock

const timeFormat = new Intl.DateTimeFormat(LOCALE, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const dateFormat = new Intl.DateTimeFormat(LOCALE, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

export function tick() {
  const now = correctedNow();
  const date = new Date(now);
  const clockTime = $("clock-time");
  clockTime.textContent = timeFormat.format(date);
  clockTime.dateTime = rfc3339(now);
  $("clock-date").textContent = dateFormat.format(date);
  const serverTime = $("server-time");
  serverTime.hidden = !isCorrected();
  serverTime.title = t("server_time_hint", { seconds: Math.round(clockOffsetMs() / 1000) });
  setTimeout(tick, 1000 - (now % 1000) + 10);
}

// ---------------------------------------------------------------- the employee and the kinds

export function currentEmployeeId() {
  if (state.config?.mode === "personal") return state.auth?.employee_id ?? "";
  return $("employee-id").value.trim();
}

function lastPunchOf(employeeId) {
  const punches = [];
  for (const receipt of state.employee.id === employeeId ? (state.employee.receipts ?? []) : []) {
    punches.push({ at: receipt.punched_at, kind: receipt.kind });
  }
  for (const item of state.items) {
    if (item.body.employee_id === employeeId && item.state !== "failed") {
      punches.push({ at: item.body.punched_at, kind: item.body.kind });
    }
  }
  for (const { receipt } of state.sealed) {
    if (receipt.employee?.employee_id === employeeId) punches.push({ at: receipt.punched_at, kind: receipt.kind });
  }
  punches.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return punches.at(-1) ?? null;
}

export function suggestedKinds(employeeId) {
  if (!EMPLOYEE_ID.test(employeeId || "")) return [];
  const last = lastPunchOf(employeeId);
  return NEXT_KINDS[last?.kind ?? "none"] ?? NEXT_KINDS.none;
}

export function setBusy(busy) {
  state.busy = busy;
  for (const button of document.querySelectorAll("button.kind")) button.disabled = busy;
  $("punch").setAttribute("aria-busy", String(busy));
}

// ---------------------------------------------------------------- screens, status, lists, the receipt

export function renderMode() {
  const config = state.config;
  const personal = config?.mode === "personal";
  const signedIn = personal && Boolean(state.auth?.id_token);
  show("setup", !config);
  show("signin", personal && !signedIn);
  show("punch", Boolean(config) && (!personal || signedIn));
  show("kiosk-employee", config?.mode === "kiosk");
  show("personal-employee", signedIn);
  document.body.dataset.mode = config?.mode ?? "setup";
  renderNet();
  renderEmployee();
  renderKinds();
}

export function renderNet() {
  const net = $("net-status");
  net.textContent = navigator.onLine ? t("online") : t("offline");
  net.className = navigator.onLine ? "chip chip-ok" : "chip chip-warn";
}

export function renderPending() {
  const count = state.items.filter((item) => item.state === "queued").length;
  const text = count === 0 ? t("pending_none") : count === 1 ? t("pending_one") : t("pending_many", { count });
  const pending = $("pending-count");
  if (pending.textContent !== text) pending.textContent = text;
  pending.dataset.count = String(count);
  pending.classList.toggle("has-pending", count > 0);
}

export function renderAlert() {
  const blocked = state.items.find((item) => item.state === "queued" && [401, 403].includes(item.error?.status));
  const alert = $("alert");
  const text = blocked ? errorText(blocked.error) : "";
  if (alert.textContent !== text) alert.textContent = text;
  alert.hidden = !text;
}

export function renderEmployee() {
  const status = $("employee-status");
  const { id, status: known, name } = state.employee;
  const kiosk = state.config?.mode === "kiosk";
  if (!kiosk && state.auth) {
    // Personal: the name on the receipts once they are loaded, else what the token says.
    const shown = name ?? state.auth.name;
    const employeeId = state.auth.employee_id;
    $("signed-in-as").textContent = t("signed_in_as", { name: employeeId ? `${shown} (${employeeId})` : shown });
  }
  let text = "";
  let tone = "info";
  if (known === "invalid") [text, tone] = [t("employee_id_invalid"), "error"];
  else if (known === "checking" && kiosk) text = t("employee_checking");
  else if (known === "unknown") [text, tone] = [t("employee_unknown", { id }), "error"];
  else if (known === "known" && name && kiosk) text = t("employee_known", { name });
  status.textContent = text;
  status.dataset.tone = tone;
  const input = $("employee-id");
  input.setAttribute("aria-invalid", String(known === "invalid" || known === "unknown"));
}

export function renderKinds() {
  const employeeId = currentEmployeeId();
  const suggested = state.employee.status === "unknown" ? [] : suggestedKinds(employeeId);
  for (const button of document.querySelectorAll("button.kind")) {
    const kind = button.dataset.kind;
    const isSuggested = suggested.includes(kind);
    button.querySelector(".kind-label").textContent = kindLabel(kind);
    button.querySelector(".kind-badge").textContent = isSuggested ? t("suggested") : "";
    button.classList.toggle("suggested", isSuggested);
    button.disabled = state.busy;
  }
}

/** A button of a list row: app.js handles its click by data-action (view, check-again, dismiss). */
function actionButton(action, punchId, text) {
  const attrs = { type: "button", "data-action": action, "data-punch-id": punchId };
  return element("button", { className: "button small", text, attrs });
}

/** The receipt of a punch shown in a list: sealed on this page, or in the employee's last 48 hours. */
export function receiptOf(punchId) {
  return (
    state.sealed.find((entry) => entry.receipt.punch_id === punchId)?.receipt ??
    (state.employee.receipts ?? []).find((receipt) => receipt.punch_id === punchId) ??
    null
  );
}

function entryRow({ item, receipt }) {
  const body = item.body;
  const stateName = receipt ? "sealed" : item.state;
  const when = formatRecordedTime(receipt?.punched_at ?? body.punched_at, lang);
  const who = receipt?.employee?.name ?? item.who;
  const offline = receipt ? receipt.offline : body.offline;
  const attrs = { "data-punch-id": item.punch_id, "data-state": stateName };
  const row = element("li", { className: `entry state-${stateName}`, attrs });
  row.append(
    element("div", { className: "entry-main" }, [
      element("strong", { text: kindLabel(receipt ? receipt.kind : body.kind) }),
      element("span", { text: ` · ${who} · ` }),
      element("time", { text: when }),
    ]),
  );
  const meta = element("div", { className: "entry-meta" }, [
    element("span", { className: `badge badge-${stateName}`, text: t(`state_${stateName}`) }),
  ]);
  if (receipt) meta.append(element("span", { className: "nsr", text: `NSR ${receipt.nsr}` }));
  if (offline) meta.append(element("span", { className: "badge badge-offline", text: t("offline_taken") }));
  row.append(meta);
  const message = receipt ? "" : errorText(item.error);
  if (message) row.append(element("p", { className: "entry-error", text: message }));
  const actions = element("div", { className: "actions" });
  if (receipt) actions.append(actionButton("view", item.punch_id, t("view_receipt")));
  if (item.state === "unconfirmed") actions.append(actionButton("check-again", item.punch_id, t("check_again")));
  if (item.state === "failed" || item.state === "unconfirmed") {
    actions.append(actionButton("dismiss", item.punch_id, t("dismiss")));
  }
  if (actions.childElementCount) row.append(actions);
  return row;
}

export function renderDevice() {
  const list = $("device-list");
  const open = [...state.items].reverse().map((item) => ({ item, receipt: null }));
  const entries = [...open, ...state.sealed];
  list.replaceChildren(...entries.map(entryRow));
  show("device", Boolean(state.config) && entries.length > 0);
}

export function renderHistory() {
  const { status, receipts } = state.employee;
  const visible = Boolean(state.config) && (status === "known" || status === "unchecked");
  show("history", visible);
  if (!visible) return;
  const list = $("history-list");
  if (status === "unchecked") {
    $("history-status").textContent = state.employee.error
      ? t("error_receipts", { status: state.employee.error })
      : t("history_offline");
    list.replaceChildren();
    return;
  }
  const cutoff = correctedNow() - HISTORY_MS;
  const recent = (receipts ?? []).filter((r) => Date.parse(r.punched_at) >= cutoff).reverse();
  $("history-status").textContent = recent.length ? "" : t("history_empty");
  list.replaceChildren(
    ...recent.map((receipt) => {
      const row = element("li", { className: "entry", attrs: { "data-nsr": String(receipt.nsr) } }, [
        element("div", { className: "entry-main" }, [
          element("strong", { text: kindLabel(receipt.kind) }),
          element("span", { text: " · " }),
          element("time", { text: formatRecordedTime(receipt.punched_at, lang) }),
        ]),
        element("div", { className: "entry-meta" }, [
          element("span", { className: "nsr", text: `NSR ${receipt.nsr}` }),
          receipt.offline ? element("span", { className: "badge badge-offline", text: t("offline_taken") }) : null,
        ]),
      ]);
      row.append(element("div", { className: "actions" }, [actionButton("view", receipt.punch_id, t("view_receipt"))]));
      return row;
    }),
  );
}

export function showReceipt(receipt) {
  state.receipt = receipt;
  renderReceipt();
  $("receipt").focus();
}

export function renderReceipt() {
  const receipt = state.receipt;
  show("receipt", Boolean(receipt));
  $("receipt-status").textContent = "";
  if (!receipt) return;
  const masked = state.config?.mode === "kiosk"; // a kiosk screen is public: the PDF has the whole CPF
  const employer = receipt.employer ?? {};
  const employee = receipt.employee ?? {};
  const employerDocument = formatDocument(employer.document_type, employer.document);
  const fields = [
    ["receipt_nsr", String(receipt.nsr), "nsr"],
    ["receipt_employer", `${employer.name ?? ""} — ${employer.document_type ?? ""} ${employerDocument}`, "employer"],
    employer.cno_caepf ? ["receipt_cno_caepf", employer.cno_caepf] : null,
    ["receipt_workplace", employer.workplace ?? "", "workplace"],
    ["receipt_employee", employee.name ?? ""],
    ["receipt_cpf", formatCpf(employee.cpf, masked)],
    ["receipt_punched_at", formatRecordedTime(receipt.punched_at, lang)],
    ["receipt_kind", kindLabel(receipt.kind)],
    ["receipt_recorded_at", formatRecordedTime(receipt.recorded_at, lang)],
    ["receipt_inpi", receipt.inpi ?? ""],
    ["receipt_hash", receipt.hash ?? "", "hash"],
  ].filter(Boolean);
  $("receipt-fields").replaceChildren(
    ...fields.map(([key, value, name]) => {
      const dd = element("dd", name ? { attrs: { "data-field": name } } : {});
      if (name === "hash") dd.append(element("code", { text: value }));
      else dd.textContent = value;
      const wide = ["hash", "employer", "workplace"].includes(name);
      return element("div", { className: wide ? "field wide" : "field" }, [element("dt", { text: t(key) }), dd]);
    }),
  );
  show("receipt-offline", Boolean(receipt.offline));
}

export function renderSettings() {
  const config = state.config;
  const rows = [];
  if (!config) rows.push(["settings_mode", t("settings_not_configured")]);
  else {
    rows.push(["settings_api", config.api]);
    rows.push(["settings_mode", t(config.mode === "kiosk" ? "settings_mode_kiosk" : "settings_mode_personal")]);
    if (config.mode === "kiosk") rows.push(["settings_key", `${config.key.slice(0, 4)}…`]);
    else rows.push(["settings_cognito", `${config.cognito.endpoint} (${config.cognito.client_id})`]);
  }
  rows.push(["settings_offset", `${(clockOffsetMs() / 1000).toFixed(1)} s`]);
  rows.push(["settings_language", LOCALE]);
  $("settings-fields").replaceChildren(
    ...rows.map(([key, value]) =>
      element("div", { className: "field wide" }, [element("dt", { text: t(key) }), element("dd", { text: value })]),
    ),
  );
  const reset = $("reset-config");
  reset.hidden = !config;
  reset.textContent = t("settings_reset");
  reset.dataset.confirm = "false";
  show("settings-pending", false);
}
