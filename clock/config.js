// The device's configuration: read once from a setup link, kept in localStorage.
//
// A setup link is `<clock url>/#setup=<base64url of JSON>`:
//   {"api": "https://…", "mode": "kiosk", "key": "<device API key>"}
//   {"api": "https://…", "mode": "personal", "cognito": {"endpoint", "region", "client_id"}}
// `api` may be omitted: the page's own origin.

const CONFIG_KEY = "ponto.config";
const AUTH_KEY = "ponto.auth";

export const EMPLOYEE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class SetupError extends Error {}

function decodeBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function encodeBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function httpUrl(value, what) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new SetupError(`${what} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new SetupError(`${what} is not http(s)`);
  return url.href.replace(/\/+$/, "");
}

/** A validated configuration from the setup JSON (throws SetupError). */
export function parseSetup(json, origin) {
  let raw;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new SetupError("not JSON");
  }
  if (raw === null || typeof raw !== "object") throw new SetupError("not an object");
  const api = httpUrl(raw.api ?? origin, "api");
  if (raw.mode === "kiosk") {
    if (typeof raw.key !== "string" || raw.key.length === 0) throw new SetupError("kiosk mode needs a key");
    return { api, mode: "kiosk", key: raw.key };
  }
  if (raw.mode === "personal") {
    const cognito = raw.cognito ?? {};
    if (typeof cognito.client_id !== "string" || !cognito.client_id) throw new SetupError("cognito.client_id");
    const region = typeof cognito.region === "string" && cognito.region ? cognito.region : "us-east-1";
    const endpoint = httpUrl(cognito.endpoint ?? `https://cognito-idp.${region}.amazonaws.com`, "cognito.endpoint");
    return { api, mode: "personal", cognito: { endpoint, region, client_id: cognito.client_id } };
  }
  throw new SetupError("mode must be kiosk or personal");
}

/** The setup code in a URL's hash (#setup=…), in a pasted link, or a bare code; null when none. */
export function setupCodeFrom(text) {
  const value = String(text || "").trim();
  const match = value.match(/[#&]setup=([A-Za-z0-9_-]+=*)/);
  if (match) return match[1];
  return /^[A-Za-z0-9_-]+=*$/.test(value) ? value : null;
}

export function configFromCode(code, origin) {
  let json;
  try {
    json = decodeBase64Url(code);
  } catch {
    throw new SetupError("not base64url");
  }
  return parseSetup(json, origin);
}

export function loadConfig() {
  try {
    const stored = localStorage.getItem(CONFIG_KEY);
    return stored ? parseSetup(stored, location.origin) : null;
  } catch {
    return null;
  }
}

export function saveConfig(config) {
  localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
}

export function resetConfig() {
  localStorage.removeItem(CONFIG_KEY);
  localStorage.removeItem(AUTH_KEY);
}

// Personal mode: the Cognito tokens of the signed-in employee.

export function loadAuth() {
  try {
    return JSON.parse(localStorage.getItem(AUTH_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveAuth(auth) {
  if (auth) localStorage.setItem(AUTH_KEY, JSON.stringify(auth));
  else localStorage.removeItem(AUTH_KEY);
}

/** What sending needs (also read by the service worker, which has no localStorage): API and headers. */
export function sendContext(config, auth) {
  if (!config) return null;
  if (config.mode === "kiosk") return { api: config.api, mode: "kiosk", headers: { "x-api-key": config.key } };
  if (!auth?.id_token) return { api: config.api, mode: "personal", headers: {} };
  return { api: config.api, mode: "personal", headers: { Authorization: `Bearer ${auth.id_token}` } };
}
