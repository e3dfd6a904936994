// The Ponto API as the clock uses it. Every call answers {network: true} when no answer came
// (no connection, refused, timed out: the outcome is unknown) or {status, body} with the parsed JSON.
// Used by the page and by the service worker, so it touches neither the DOM nor localStorage.

const TIMEOUT_MS = 15000;

let serverDateObserver = null;

/** fn(dateHeader, receivedAtMs) is called with every API response's Date header. */
export function observeServerDate(fn) {
  serverDateObserver = fn;
}

async function request(context, method, path, { body, accept = "application/json" } = {}) {
  const headers = { Accept: accept, ...context.headers };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(context.api + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: abort.signal,
    });
  } catch (error) {
    clearTimeout(timer);
    return { network: true, error: String(error) };
  }
  try {
    serverDateObserver?.(response.headers.get("Date"), Date.now());
    if (accept === "application/pdf" && response.ok) {
      return { status: response.status, blob: await response.blob() };
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    return { status: response.status, body: parsed, retryAfter: response.headers.get("Retry-After") };
  } catch (error) {
    return { network: true, error: String(error) }; // the connection dropped while reading
  } finally {
    clearTimeout(timer);
  }
}

// Kiosk routes take the device's API key; personal mode has its own routes under /me, behind the
// Cognito authorizer (the ID token says who punches: the body's employee_id must be the token's).
const prefix = (context) => (context.mode === "personal" ? "/me" : "");

/** POST /punches (kiosk) or /me/punches (personal) with a v1 body. 202 {status, request_id, message_id}. */
export function postPunch(context, body) {
  return request(context, "POST", `${prefix(context)}/punches`, { body });
}

/** GET …/punches/{id}/receipt: 200 the receipt, 404 not sealed yet (or not this caller's). */
export function getReceipt(context, punchId) {
  return request(context, "GET", `${prefix(context)}/punches/${encodeURIComponent(punchId)}/receipt`);
}

/** The signed PDF of a receipt: {status, blob} on 200. */
export function getReceiptPdf(context, punchId) {
  const path = `${prefix(context)}/punches/${encodeURIComponent(punchId)}/receipt`;
  return request(context, "GET", path, { accept: "application/pdf" });
}

/**
 * The last 48 hours of receipts (oldest first): kiosk GET /employees/{id}/receipts, 404 when the
 * employee is unknown to this establishment; personal GET /me/receipts (the signed-in employee's).
 */
export function listReceipts(context, employeeId, since) {
  const query = since ? `?since=${encodeURIComponent(since)}` : "";
  const path = context.mode === "personal" ? "/me/receipts" : `/employees/${encodeURIComponent(employeeId)}/receipts`;
  return request(context, "GET", path + query);
}
