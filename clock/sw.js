// The clock's service worker: the app shell from the cache when the network is gone (a reload while
// offline still opens the clock), and Background Sync, which sends the outbox with no page open.

import { SYNC_TAG, flush } from "./delivery.js";

const CACHE = "ponto-clock-v1";
const SHELL = [
  "./",
  "index.html",
  "styles.css",
  "app.js",
  "api.js",
  "auth.js",
  "config.js",
  "delivery.js",
  "i18n.js",
  "outbox.js",
  "state.js",
  "time.js",
  "view.js",
  "manifest.webmanifest",
  "icon.svg",
];
const NETWORK_TIMEOUT_MS = 4000;

const scopeUrl = new URL(self.registration.scope);
const shellUrls = new Set(SHELL.map((path) => new URL(path, scopeUrl).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

async function networkThenCache(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok) await cache.put(cacheKey, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(cacheKey);
    if (cached) return cached;
    throw error;
  }
}

// Only the shell's own files, without a query: the API (punches, receipts) and the clock's time sync
// (icon.svg?time-sync=…) always go to the network untouched.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.hash = "";
  if (request.mode === "navigate") {
    url.search = "";
    if (url.href === scopeUrl.href || url.href === new URL("index.html", scopeUrl).href) {
      event.respondWith(networkThenCache(request, scopeUrl.href));
    }
  } else if (shellUrls.has(url.href)) {
    event.respondWith(networkThenCache(request, url.href));
  }
});

if ("SyncManager" in self || "sync" in self.registration) {
  self.addEventListener("sync", (event) => {
    if (event.tag !== SYNC_TAG) return;
    event.waitUntil(
      flush({ force: true }).then((result) => {
        // Still no network: a rejected sync is retried by the browser later.
        if (result.stoppedBy === "offline") throw new Error("outbox not sent yet");
      }),
    );
  });
}
