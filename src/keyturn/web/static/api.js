// Talks to /api/v1 for the /app page (docs/web-app.md).
//
// The access token lives in this module's memory only: never in localStorage,
// sessionStorage or a readable cookie (DESIGN §12). Staying signed in across reloads uses
// the refresh token the server keeps in an HttpOnly cookie when we ask for cookie transport;
// this script never sees it.

const BASE = "/api/v1";
const EARLY_REFRESH_S = 60;

let accessToken = null;
let user = null;
let market = "us";
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.problem = problem ?? {};
  }
}

export const auth = {
  get signedIn() {
    return accessToken !== null;
  },
  get user() {
    return user;
  },
  get market() {
    return market;
  },
  setMarket(code) {
    market = code;
  },
  /** fn(reason) runs when the session ends: "logout" or "expired". */
  onSignedOut(fn) {
    listeners.add(fn);
  },
};

async function send(method, path, { body, headers = {}, bearer = true } = {}) {
  const sent = { Accept: "application/json", "X-Market": market, ...headers };
  if (bearer && accessToken) sent.Authorization = `Bearer ${accessToken}`;
  const init = { method, headers: sent, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, { detail: "The server did not answer. Check your connection." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, data !== null && typeof data === "object" ? data : null);
  }
  return data;
}

/** One API call; an expired access token is refreshed (once) from the cookie and retried. */
export async function api(method, path, options = {}) {
  const hadToken = accessToken !== null && options.bearer !== false;
  try {
    return await send(method, path, options);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !hadToken) throw err;
    if (await refresh()) return send(method, path, options);
    throw err;
  }
}

function accept(tokens) {
  accessToken = tokens.access_token;
  user = tokens.user;
  clearTimeout(refreshTimer);
  const seconds = Math.max(tokens.expires_in - EARLY_REFRESH_S, 10);
  refreshTimer = setTimeout(() => refresh(), seconds * 1000);
}

function forget(reason) {
  const wasSignedIn = accessToken !== null;
  accessToken = null;
  user = null;
  clearTimeout(refreshTimer);
  if (wasSignedIn) for (const fn of listeners) fn(reason);
}

/** Trade the HttpOnly refresh cookie for a new access token. Resolves true when signed in. */
export function refresh() {
  if (!refreshing) {
    refreshing = send("POST", "/auth/refresh", {
      body: { refresh_transport: "cookie" },
      bearer: false,
    })
      .then((tokens) => {
        accept(tokens);
        return true;
      })
      .catch((err) => {
        if (err.status === 401 || err.status === 403) forget("expired");
        return false;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export function sendCode(phone) {
  return send("POST", "/auth/send-verification", { body: { phone }, bearer: false });
}

export async function verifyCode(phone, code, deviceName) {
  const tokens = await send("POST", "/auth/verify-code", {
    body: {
      phone,
      verification_code: code,
      device_name: deviceName || null,
      refresh_transport: "cookie",
    },
    bearer: false,
  });
  accept(tokens);
  return tokens;
}

/** The newest sign-in code for this phone from the dev outbox (404 outside development). */
export async function devCode(phone) {
  const outbox = await send("GET", `/dev/outbox?to=${encodeURIComponent(phone)}`, {
    bearer: false,
  });
  const message = outbox.items.find((m) => m.kind === "verification" && m.code);
  return message ? message.code : null;
}

/** scope: "current" | "others" | "all". */
export async function logout(scope) {
  try {
    await api("POST", "/auth/logout", { body: { scope } });
  } catch (err) {
    if (err.status !== 401) throw err;
  }
  if (scope !== "others") forget("logout");
}
