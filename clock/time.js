// The clock's time: the device's clock corrected by its offset to the server's (the `Date` header of
// every API response), so the clock shown and the punches taken stay within seconds of official time
// even on a device whose own clock is wrong.

const OFFSET_KEY = "ponto.clock_offset_ms";
// The Date header has whole seconds: a device within a second of it is taken as right.
const CORRECTION_THRESHOLD_MS = 1000;

let offsetMs = readStoredOffset();

function readStoredOffset() {
  try {
    const stored = Number(globalThis.localStorage?.getItem(OFFSET_KEY));
    return Number.isFinite(stored) ? stored : 0;
  } catch {
    return 0;
  }
}

/** Notes a response's server time (its Date header) against the device's clock at receipt. */
export function noteServerDate(dateHeader, receivedAtMs = Date.now()) {
  const serverMs = Date.parse(dateHeader || "");
  if (!Number.isFinite(serverMs)) return;
  // The header is truncated to the second: the server's time at receipt is, on average, half a second later.
  const measured = serverMs + 500 - receivedAtMs;
  offsetMs = Math.abs(measured) < CORRECTION_THRESHOLD_MS ? 0 : Math.round(measured);
  try {
    globalThis.localStorage?.setItem(OFFSET_KEY, String(offsetMs));
  } catch {
    // private mode or no storage: the offset still applies to this session
  }
}

export function clockOffsetMs() {
  return offsetMs;
}

export function isCorrected() {
  return offsetMs !== 0;
}

/** Now, in epoch milliseconds, on the server's clock. */
export function correctedNow() {
  return Date.now() + offsetMs;
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** RFC 3339 with the device's UTC offset and whole seconds: 2026-11-24T08:00:03-03:00. */
export function rfc3339(ms) {
  const date = new Date(ms);
  const east = -date.getTimezoneOffset();
  const sign = east >= 0 ? "+" : "-";
  const abs = Math.abs(east);
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * An RFC 3339 time as written (its own date, time and offset, not converted to the device's zone),
 * for receipts: "24/11/2026 08:00:03 (-03:00)" in Portuguese, "2026-11-24 08:00:03 (-03:00)" otherwise.
 */
export function formatRecordedTime(text, lang) {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(text || "");
  if (!match) return text || "";
  const [, year, month, day, time, zone] = match;
  const date = lang === "pt" ? `${day}/${month}/${year}` : `${year}-${month}-${day}`;
  const offset = !zone ? "" : zone === "Z" ? " (UTC)" : ` (${zone})`;
  return `${date} ${time}${offset}`;
}
