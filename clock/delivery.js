// Sending the outbox, and waiting for receipts. Shared by the page and the service worker (Background
// Sync), so it reads what it needs (the API and its auth headers) from IndexedDB, not localStorage.
//
// Retry policy: a punch is tried at once. No answer (offline, refused connection, timeout), a 5xx or a
// 429 keeps it queued for another try after a backoff (2 s doubling to 60 s, ±20 % jitter; at least the
// 429's Retry-After); 401/403 keep it queued too (the credentials, not the punch, are wrong: it goes as
// soon as the device is reconfigured or the employee signs in again). Any other 4xx marks it failed.
// Resending after an unknown outcome is harmless: the server takes the same punch_id as a duplicate.

import * as api from "./api.js";
import * as outbox from "./outbox.js";

export const SYNC_TAG = "ponto-outbox";
const CONTEXT_KEY = "send-context";
const BACKOFF_BASE_MS = 2000;
const BACKOFF_MAX_MS = 60000;

/** The page publishes what sending needs whenever the configuration or the sign-in changes. */
export function publishContext(context) {
  return outbox.setMeta(CONTEXT_KEY, context);
}

export function readContext() {
  return outbox.getMeta(CONTEXT_KEY);
}

export function backoffMs(attempts) {
  return jittered(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1)));
}

// ±20 %: clocks that all punched at 08:00 (or were all told "busy") spread their next tries out.
function jittered(ms) {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function retryAfterMs(header) {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

const isOffline = () => globalThis.navigator?.onLine === false;

/** Runs fn while holding this punch's lock; skips it (returns null) when the page or the worker has it. */
async function withPunchLock(punchId, fn) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return fn();
  return locks.request(`ponto-punch-${punchId}`, { ifAvailable: true }, (lock) => (lock ? fn() : null));
}

/**
 * One try of one queued punch. Answers what happened:
 * "accepted" | "offline" (no answer) | "retry" (5xx, 429) | "auth" (401/403) | "failed" | "skipped".
 */
export function sendOne(context, punchId) {
  return withPunchLock(punchId, async () => {
    const item = await outbox.get(punchId);
    if (!item || item.state !== "queued") return "skipped";
    if (!context?.api) return "skipped"; // not set up (or reset): sent once the device is set up again
    if (context.mode === "personal" && !context.headers.Authorization) return "auth"; // signed out
    const firstTry = item.attempts === 0;
    if (isOffline()) {
      if (firstTry && !item.body.offline) {
        await outbox.update(punchId, (it) => ({ ...it, body: { ...it.body, offline: true } }));
      }
      return "offline";
    }
    const result = await api.postPunch(context, item.body);
    const now = Date.now();
    let outcome;
    let change;
    if (result.network) {
      outcome = "offline";
      change = (it) => ({
        ...it,
        // Taken without a connection: the first try found no network (the API may still have got it;
        // a resend is a duplicate and the first copy's flag stands).
        body: firstTry ? { ...it.body, offline: true } : it.body,
        error: { network: true },
      });
    } else if (result.status >= 200 && result.status < 300) {
      outcome = "accepted";
      change = (it) => ({ ...it, state: "accepted", accepted_at: now, error: null, accepted: result.body });
    } else if (result.status === 429 || result.status >= 500) {
      outcome = "retry";
      change = (it) => ({ ...it, error: { status: result.status }, wait_ms: retryAfterMs(result.retryAfter) });
    } else if (result.status === 401 || result.status === 403) {
      outcome = "auth";
      change = (it) => ({ ...it, error: { status: result.status } });
    } else {
      outcome = "failed";
      const detail = String(result.body?.detail ?? result.body?.message ?? "");
      change = (it) => ({ ...it, state: "failed", failed_at: now, error: { status: result.status, detail } });
    }
    await outbox.update(punchId, (it) => {
      if (it.state !== "queued") return it; // someone else's answer came first: never go back
      const next = change(it);
      next.attempts = it.attempts + 1;
      next.last_attempt_at = now;
      if (next.state === "queued") {
        next.next_attempt_at = now + Math.max(backoffMs(next.attempts), next.wait_ms ?? 0);
      }
      delete next.wait_ms;
      return next;
    });
    return outcome;
  });
}

/**
 * Sends every queued punch that is due (all of them with force), oldest first; stops at the first
 * that finds no network or is refused for its credentials (the others would fare the same).
 * Answers {accepted, remaining, stoppedBy}.
 */
export async function flush({ force = false } = {}) {
  const context = await readContext();
  const now = Date.now();
  const due = (await outbox.all()).filter(
    (item) => item.state === "queued" && (force || (item.next_attempt_at ?? 0) <= now),
  );
  let accepted = 0;
  let stoppedBy = null;
  for (const item of due) {
    const outcome = await sendOne(context, item.punch_id);
    if (outcome === "accepted") accepted += 1;
    if (outcome === "offline" || outcome === "auth") {
      stoppedBy = outcome;
      break;
    }
  }
  const remaining = (await outbox.all()).filter((item) => item.state === "queued").length;
  return { accepted, remaining, stoppedBy };
}

/** When the next queued punch is due (epoch ms), or null when none is queued. */
export async function nextAttemptAt() {
  const queued = (await outbox.all()).filter((item) => item.state === "queued");
  if (queued.length === 0) return null;
  return Math.min(...queued.map((item) => item.next_attempt_at ?? 0));
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

// Every second for the first 10 s (sealing usually takes a batching window of ~5 s), then backing off
// to every 10 s, for about 2 minutes in all; each delay jittered, so a busy read function (503) is asked
// again by the clocks one after another, not all at once.
const POLL_DELAYS_MS = [...Array(10).fill(1000), 2000, 2000, 3000, 5000, 5000, ...Array(10).fill(10000)];

/**
 * Polls a punch's receipt until it is sealed. Answers {receipt} on 200, {auth: status} on 401/403,
 * {timedOut: true} when polling ended without it (404s, no network), or {aborted: true}.
 */
export async function pollReceipt(context, punchId, signal) {
  for (const delay of POLL_DELAYS_MS) {
    await sleep(jittered(delay), signal);
    if (signal?.aborted) return { aborted: true };
    if (isOffline()) continue;
    const result = await api.getReceipt(context, punchId);
    if (result.status === 200 && result.body) return { receipt: result.body };
    if (result.status === 401 || result.status === 403) return { auth: result.status };
  }
  return { timedOut: true };
}
