// What the page knows right now, shared by app.js (behaviour) and view.js (what is on screen).

export const state = {
  config: null, // the device's configuration (config.js), null until set up
  auth: null, // personal mode: the signed-in employee's tokens and claims (auth.js)
  context: null, // what sending needs: {api, mode, headers}; also in IndexedDB for the service worker
  registration: null, // the service worker's registration, when there is one
  items: [], // the outbox (outbox.js), oldest first
  sealed: [], // {item, receipt} sealed while this page was open, newest first
  polling: new Map(), // punch_id -> AbortController of its receipt's polling
  busy: false, // a punch is being made: the kind buttons are disabled
  lastTap: { employeeId: null, at: 0 }, // a second tap within 2 s for the same employee is ignored
  lastPunchId: null, // the punch made on this screen last: its receipt is shown when it comes
  // The employee being served: kiosk, the id typed; personal, the signed-in one. status: none, invalid,
  // checking, known (their receipts loaded), unknown (404), unchecked (offline or an error).
  employee: { id: "", status: "none", name: null, receipts: null },
  knownEmployees: new Map(), // kiosk: employee id -> true (registered) | false (404), as the API answered
  checkSeq: 0, // the latest employee check; an older answer is dropped
  receipt: null, // the receipt on display
  flushing: false,
  flushAgain: false,
  retryTimer: null,
  checkTimer: null,
  idleTimer: null,
  signInSession: null, // {username, session} between a NEW_PASSWORD_REQUIRED challenge and its answer
  forcedRefreshAt: 0, // when a 401 last made us refresh the tokens
};
