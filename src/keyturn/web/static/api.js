// Talks to /api/v1 for the /app and /admin pages (docs/web-app.md).
//
// The access token lives in this module's memory only: never in localStorage,
// sessionStorage or a readable cookie (DESIGN §12). Staying signed in across reloads uses
// the refresh token the server keeps in an HttpOnly cookie when we ask for cookie transport;
// this script never sees it.

import { getPasskey } from "./webauthn.js";

const BASE = "/api/v1";
const EARLY_REFRESH_S = 60;
// The 401 of an action that needs a recent proof of identity (stepup.js asks for one).
export const STEP_UP = "auth.insufficient_user_authentication";

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
  /** The profile changed (name, language): keep the signed-in user in step. */
  setUser(changed) {
    user = changed;
  },
  /** fn(reason) runs when the session ends: "logout", "expired" or "deleted" (the account). */
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

function problemOf(status, text) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return new ApiError(status, data !== null && typeof data === "object" ? data : null);
}

/**
 * A request whose body is a file or raw bytes, with upload progress: onProgress(sent, total).
 * fetch() cannot report upload progress, XMLHttpRequest can.
 */
function sendWithProgress(method, path, body, { headers = {}, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, BASE + path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Market", market);
    if (accessToken) xhr.setRequestHeader("Authorization", `Bearer ${accessToken}`);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) {
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total);
      });
    }
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null);
      } else {
        reject(problemOf(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, { detail: "The server did not answer. Check your connection." })),
    );
    xhr.send(body);
  });
}

/** Upload with progress; an expired access token is refreshed once and the upload retried. */
export async function upload(path, body, options = {}) {
  try {
    return await sendWithProgress("POST", path, body, options);
  } catch (err) {
    if (err.status !== 401 || !accessToken || !(await refresh())) throw err;
    return sendWithProgress("POST", path, body, options);
  }
}

/** GET a download (file content, audit export): {blob, filename}. */
export async function download(path) {
  const get = () =>
    fetch(BASE + path, {
      headers: { "X-Market": market, Authorization: `Bearer ${accessToken}` },
      credentials: "same-origin",
      cache: "no-store",
    });
  let response = await get().catch(() => null);
  if (response && response.status === 401 && (await refresh())) response = await get();
  if (!response) {
    throw new ApiError(0, { detail: "The server did not answer. Check your connection." });
  }
  if (!response.ok) throw problemOf(response.status, await response.text());
  const disposition = response.headers.get("Content-Disposition") || "";
  const utf8 = /filename\*=UTF-8''([^;]+)/.exec(disposition);
  const plain = /filename="([^"]+)"/.exec(disposition);
  const filename = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : "download";
  return { blob: await response.blob(), filename };
}

/** One API call; an expired access token is refreshed (once) from the cookie and retried. */
export async function api(method, path, options = {}) {
  const hadToken = accessToken !== null && options.bearer !== false;
  try {
    return await send(method, path, options);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !hadToken) throw err;
    if (err.code === STEP_UP) throw err; // a refresh keeps the old proof: ask for a new one
    if (await refresh()) return send(method, path, options);
    throw err;
  }
}

function accept(tokens) {
  accessToken = tokens.access_token;
  user = tokens.user ?? user;
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

/**
 * A first factor's answer: tokens (signed in), or `{mfa_required, mfa_token, methods}` when
 * the account has an authenticator app (verifySecondFactor is next; nothing is signed in yet).
 */
function signedInOrSecondStep(answer) {
  if (!answer.mfa_required) accept(answer);
  return answer;
}

export async function verifyCode(phone, code, deviceName) {
  const answer = await send("POST", "/auth/verify-code", {
    body: {
      phone,
      verification_code: code,
      device_name: deviceName || null,
      refresh_transport: "cookie",
    },
    bearer: false,
  });
  return signedInOrSecondStep(answer);
}

export async function passwordSignIn(email, password, deviceName) {
  const answer = await send("POST", "/auth/login", {
    body: { email, password, device_name: deviceName || null, refresh_transport: "cookie" },
    bearer: false,
  });
  return signedInOrSecondStep(answer);
}

/** The second step of a sign-in. proof: {code} (the app's 6 digits) or {recovery_code}. */
export async function verifySecondFactor(mfaToken, proof) {
  const tokens = await send("POST", "/auth/mfa/verify", {
    body: { mfa_token: mfaToken, ...proof, refresh_transport: "cookie" },
    bearer: false,
  });
  accept(tokens);
  return tokens;
}

/**
 * Prove who you are again in this session (step-up, docs/passkeys-and-step-up.md). proof:
 * {method: "password", password} | {method: "sms", verification_code} | {method: "passkey",
 * credential} | {method: "totp", code} | {method: "recovery_code", recovery_code}. The new
 * access token carries the fresh proof; the user and the refresh cookie stay as they were.
 */
export async function reauthenticate(proof) {
  const renewed = await api("POST", "/auth/reauthenticate", { body: proof });
  accept(renewed);
  return renewed;
}

export async function register(email, password, fullName, deviceName) {
  const tokens = await send("POST", "/auth/register", {
    body: {
      email,
      password,
      full_name: fullName || null,
      device_name: deviceName || null,
      refresh_transport: "cookie",
    },
    bearer: false,
  });
  accept(tokens);
  return tokens;
}

/** The service index (`GET /`, outside /api/v1): `oauth_providers` names the Apple/Google
 * sign-ins configured here. */
export async function serviceIndex() {
  const response = await fetch("/", { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, null);
  return response.json();
}

/** Request options for a passkey sign-in: a fresh challenge, and `rpId`, the domain this
 * server's passkeys belong to. */
export function passkeyLoginOptions() {
  return send("POST", "/auth/passkeys/login/options", { bearer: false });
}

/**
 * Passkeys belong to a domain (the RP ID), never to an IP address, and the refresh cookie and
 * the remembered market and language to the host that set them. A page opened at 127.0.0.1 or
 * [::1] while the RP ID is `localhost` (the development default) moves to the same address on
 * localhost, before anything is signed in; true when it is leaving. The RP ID comes with the
 * passkey sign-in options (what the sign-in card asks for anyway).
 */
export async function movedToPasskeyHost() {
  if (!["127.0.0.1", "[::1]"].includes(location.hostname)) return false;
  const options = await passkeyLoginOptions().catch(() => null);
  if (options?.rpId !== "localhost") return false;
  const there = new URL(location.href);
  there.hostname = "localhost";
  location.replace(there.href);
  return true;
}

/** Sign in with a passkey alone. `conditional`: offered as autofill, resolving only when the
 * person picks one (null if the request was cancelled). */
export async function passkeySignIn({ conditional = false, deviceName } = {}) {
  const options = await passkeyLoginOptions();
  const credential = await getPasskey(options, { conditional });
  if (!credential) return null;
  const tokens = await send("POST", "/auth/passkeys/login", {
    body: { credential, device_name: deviceName || null, refresh_transport: "cookie" },
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

/** Delete the account (a recent sign-in wanted): every session ends, this page's too. */
export async function deleteAccount() {
  await api("DELETE", "/profile");
  forget("deleted");
}

let watching = null;

/**
 * While signed in, check now and then (and whenever the page becomes visible again) that the
 * session is still live, so a page left open notices a session ended elsewhere or an account
 * disabled by staff: the 401 ends in the signed-out handler.
 */
export function watchSession(seconds = 20) {
  if (watching) return;
  const check = () => {
    if (accessToken && document.visibilityState === "visible") api("GET", "/profile").catch(() => {});
  };
  watching = setInterval(check, seconds * 1000);
  document.addEventListener("visibilitychange", check);
}

export function forgotPassword(email) {
  return send("POST", "/auth/password/forgot", { body: { email }, bearer: false });
}

export function resetPassword(token, newPassword) {
  return send("POST", "/auth/password/reset", {
    body: { token, new_password: newPassword },
    bearer: false,
  });
}
