// The outbox: every punch is written here (IndexedDB) before it is sent, so a reload, a crash or a
// dead network loses nothing. Shared by the page and the service worker.
//
// An item: {punch_id, body (exactly what is POSTed), who (a name to show), state, created_at,
//           attempts, next_attempt_at, error ({status, detail} of the last refusal), receipt}
// States:
//   queued      stored, not yet accepted by the API (never tried, or waiting for its next try)
//   accepted    the API answered 202; waiting for the receipt (sealing takes a few seconds)
//   unconfirmed accepted, but no receipt came while polling; checked again at every start
//   failed      refused for good (a 4xx other than 401/403/429): kept visible until dismissed
// A sealed punch (its receipt came) leaves the outbox.

const DB_NAME = "ponto-clock";
const DB_VERSION = 1;
const OUTBOX = "outbox";
const META = "meta";

export const CHANGED_CHANNEL = "ponto-outbox";

let opening = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(OUTBOX)) {
        db.createObjectStore(OUTBOX, { keyPath: "punch_id" }).createIndex("created_at", "created_at");
      }
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/** Runs fn(store) in one transaction and resolves with its result once the transaction committed. */
async function transact(storeName, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode, { durability: "strict" });
    let result;
    Promise.resolve(fn(tx.objectStore(storeName))).then((value) => {
      result = value;
    }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

function announce() {
  if (typeof BroadcastChannel === "undefined") return;
  const channel = new BroadcastChannel(CHANGED_CHANNEL);
  channel.postMessage("changed");
  channel.close();
}

/** Stores a new item; resolves once it is durable. */
export async function add(item) {
  await transact(OUTBOX, "readwrite", (store) => promised(store.add(item)));
  announce();
}

/** Every item, oldest first. */
export function all() {
  return transact(OUTBOX, "readonly", (store) => promised(store.index("created_at").getAll()));
}

export function get(punchId) {
  return transact(OUTBOX, "readonly", (store) => promised(store.get(punchId)));
}

/** Changes an item in one transaction: change(item) returns the new item, or null to delete it. */
export async function update(punchId, change) {
  const changed = await transact(OUTBOX, "readwrite", async (store) => {
    const item = await promised(store.get(punchId));
    if (!item) return false;
    const next = change(structuredClone(item));
    if (next === null) await promised(store.delete(punchId));
    else await promised(store.put(next));
    return true;
  });
  if (changed) announce();
  return changed;
}

export async function remove(punchId) {
  await transact(OUTBOX, "readwrite", (store) => promised(store.delete(punchId)));
  announce();
}

export function getMeta(key) {
  return transact(META, "readonly", (store) => promised(store.get(key)));
}

export function setMeta(key, value) {
  return transact(META, "readwrite", (store) => promised(store.put(value, key)));
}
