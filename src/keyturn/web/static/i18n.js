// English and Russian for /app and /admin (docs/web-app.md).
//
// The English text is the key: t("Sign in") is "Sign in" in English and RU["Sign in"] in
// Russian; a missing translation falls back to English (a test checks there are none).
// Plurals: tn(n, "{n} item", "{n} items"), with RU["{n} item"] = [one, few, many].

import RU from "./i18n-ru.js";

export const LANGUAGES = { en: "English", ru: "Русский" };
const LANG_KEY = "keyturn.lang"; // the chosen language only: never a token
let current = "en";

const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));

export function lang() {
  return current;
}

/** The language to start in: the one chosen on this browser, else the market's. */
export function initialLang(market) {
  const chosen = localStorage.getItem(LANG_KEY);
  if (chosen in LANGUAGES) return chosen;
  return market === "kg" ? "ru" : "en";
}

export function setLang(code, { remember = false } = {}) {
  current = code in LANGUAGES ? code : "en";
  if (remember) localStorage.setItem(LANG_KEY, current);
  document.documentElement.lang = current;
  translateStatic(document);
}

export function t(text, vars = {}) {
  let out = current === "ru" ? (RU[text] ?? text) : text;
  if (Array.isArray(out)) out = out[2];
  return fill(out, vars);
}

function ruForm(n) {
  const tens = n % 100;
  const ones = n % 10;
  if (ones === 1 && tens !== 11) return 0;
  if (ones >= 2 && ones <= 4 && (tens < 12 || tens > 14)) return 1;
  return 2;
}

export function tn(n, one, many, vars = {}) {
  const all = { n, ...vars };
  if (current === "ru" && Array.isArray(RU[one])) return fill(RU[one][ruForm(Math.abs(n))], all);
  return fill(n === 1 ? one : many, all);
}

/** Elements written in the HTML: data-i18n="English text", data-i18n-attr="attr:English". */
export function translateStatic(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    const [attr, ...text] = node.dataset.i18nAttr.split(":");
    node.setAttribute(attr, t(text.join(":")));
  }
}

// What a person reads for a problem the API answered; other codes show the API's `detail`.
const PROBLEMS = {
  "auth.invalid_credentials": "The email or password is not right.",
  "auth.login_throttled": "Too many attempts. Wait a little and try again.",
  "auth.account_disabled": "This account is disabled. Contact the shop.",
  "auth.unauthorized": "Your session has ended. Sign in again.",
  "auth.forbidden": "You are not allowed to do that.",
  "account.email_taken": "This email already has an account: sign in instead.",
  "password.too_short": "Use at least {min_length} characters.",
  "password.too_long": "Use at most {max_length} characters.",
  "password.weak": "This password is easy to guess. Choose a longer or less predictable one.",
  "password.personal": "The password is mostly your email address or name.",
  "password.current_invalid": "The current password is not right.",
  "password.reset_invalid": "This reset link is invalid, expired or already used.",
  "password.not_set": "This account has no password yet.",
  "otp.invalid": "The code is not right.",
  "otp.too_many_attempts": "Too many wrong codes. Ask for a new one later.",
  "otp.resend_cooldown": "A code was sent a moment ago. Wait before asking again.",
  "phone.invalid": "Enter the phone number with its country code.",
  "usage.quota_exceeded": "You have used all {limit} uploads of your plan, so this file was not uploaded.",
  "files.too_large": "The file is too large.",
  "files.unsupported_type": "This kind of file is not accepted: use PDF, DOCX, TXT, PNG or JPEG.",
  "files.empty": "The file is empty.",
  "order.out_of_stock": "Some items are out of stock; nothing was ordered.",
  "order.cart_empty": "Your cart is empty.",
  "order.illegal_transition": "The order cannot move to that status any more.",
  "addresses.limit_reached": "You have saved as many addresses as you can. Delete one first.",
  "catalog.import_invalid": "The file has mistakes; nothing was imported.",
  "catalog.import_too_large": "The file is too large to import here.",
  "catalog.import_unsupported_type": "Choose a .json or .csv file.",
  "request.invalid": "Some fields are not valid: {fields}.",
  "mfa.code_invalid": "The code is not right, or it was just used: wait for the app's next one.",
  "mfa.recovery_code_invalid": "This recovery code is not right or was already used.",
  "mfa.token_invalid": "This sign-in has ended. Sign in again.",
  "mfa.token_expired": "This sign-in took too long. Sign in again.",
  "mfa.throttled": "Too many wrong codes. Wait a little and try again.",
  "mfa.enrolment_expired": "Setting up the app took too long. Start again.",
  "passkey.origin_not_allowed": "This passkey cannot be used from this page's address.",
  "passkey.rp_id_mismatch": "This passkey belongs to another site.",
  "passkey.challenge_invalid": "That passkey request was already used or is unknown. Try again.",
  "passkey.challenge_expired": "The passkey request expired. Try again.",
  "passkey.user_verification_required": "Your device did not confirm it is you (PIN, fingerprint or face). Try again.",
  "passkey.not_recognized": "This passkey is not registered here. Sign in another way, then add it.",
  "passkey.counter_regressed": "This passkey looks copied, so it was refused. Sign in another way and remove it.",
  "passkey.invalid": "The passkey's answer could not be verified. Try again.",
  "passkey.already_registered": "This passkey is already registered.",
  "passkey.limit_reached": "Your account has as many passkeys as it can hold. Remove one first.",
  "passkey.none_registered": "This account has no passkey.",
  "auth.insufficient_user_authentication": "For your safety, confirm it is you first.",
  "auth.reauthentication_failed": "That password is not right.",
  "auth.reauthentication_method_unavailable": "Your account cannot confirm it that way.",
  "identity.last_way_in": "This is your only way to sign in. Add a passkey first, then unlink it.",
};

export function problemText(err) {
  const problem = err.problem || {};
  if (err.status === 0) return t("The server did not answer. Check your connection.");
  const template = PROBLEMS[err.code];
  if (!template) {
    return err.status === 429 && !err.message
      ? t("Too many requests. Wait a little and try again.")
      : err.message;
  }
  const vars = { ...problem, ...(problem.counter || {}) };
  if (Array.isArray(problem.errors)) {
    vars.fields = problem.errors.map((e) => e.field).join(", ");
  }
  let text = t(template, vars);
  if (typeof problem.retry_after === "number" && err.status === 429 && err.code !== "usage.quota_exceeded") {
    text += ` ${tn(problem.retry_after, "Try again in {n} second.", "Try again in {n} seconds.")}`;
  }
  return text;
}
