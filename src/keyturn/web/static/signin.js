// Signing in, shared by /app and /admin: email + password (sign in, create an account,
// forgotten password, reset from the emailed link) and phone + code, then the second step
// (the authenticator app's code or a recovery code) for an account that has one; on /app a
// passkey too (a button, and autofill where the browser has conditional mediation).

import {
  ApiError,
  devCode,
  forgotPassword,
  passkeySignIn,
  passwordSignIn,
  register,
  resetPassword,
  sendCode,
  verifyCode,
  verifySecondFactor,
} from "./api.js";
import { $, el, field, form, notice, run, showError } from "./dom.js";
import { problemText, t } from "./i18n.js";
import { autofillSupported, cancelPasskeyRequest, passkeysSupported } from "./webauthn.js";

export const PHONE_EXAMPLES = { us: "+1 312 555 0100", kg: "+996 700 123 456" };

export function defaultDeviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "Browser";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Mac OS X/.test(ua)
        ? "macOS"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : "web";
  return `${browser} on ${os}`;
}

const input = (props) => el("input", { class: "input", ...props });

/** Shows the API's verdict on a new password under its field, in words. */
function passwordFeedback(box, err) {
  const lines = [problemText(err)];
  const p = err.problem || {};
  if (err.code === "password.weak" && err.message) lines.push(err.message);
  for (const s of p.suggestions || []) lines.push(s);
  box.replaceChildren(...lines.map((line) => el("li", { text: line })));
  box.hidden = false;
}

function newPasswordField(id) {
  const box = el("ul", { class: "feedback", id: `${id}-feedback`, hidden: true, "aria-live": "polite" });
  const pw = input({
    id,
    name: "new_password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 8,
    maxlength: 128,
    "aria-describedby": `${id}-hint ${id}-feedback`,
  });
  const wrap = field(t("New password"), pw);
  wrap.append(
    el("small", { class: "hint", id: `${id}-hint`, text: t("At least 8 characters; a few unusual words work well.") }),
    box,
  );
  return { wrap, box };
}

/** Runs a password-setting call; a refused password is explained under the field. */
async function withPasswordFeedback(box, action) {
  box.hidden = true;
  try {
    return await action();
  } catch (err) {
    if (String(err.code || "").startsWith("password.") && err.code !== "password.reset_invalid") {
      passwordFeedback(box, err);
      box.previousElementSibling?.previousElementSibling?.focus();
    }
    throw err;
  }
}

export { newPasswordField, withPasswordFeedback };

function deviceField() {
  return field(
    t("This device's name"),
    input({ id: "device-name", name: "device_name", maxlength: 100, placeholder: defaultDeviceName() }),
  );
}

const deviceName = (f) => f.elements.device_name.value.trim() || defaultDeviceName();

function emailSignIn(view, opts) {
  return form(
    { id: "email-form", class: "stack", "aria-label": t("Sign in with email") },
    [
      field(t("Email"), input({ id: "email", name: "email", type: "email", autocomplete: opts.passkeys ? "username webauthn" : "username", required: true, maxlength: 320 })),
      field(t("Password"), input({ id: "password", name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: 1024 })),
      deviceField(),
      el("button", { type: "submit", id: "email-sign-in", class: "primary", text: t("Sign in") }),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "link", id: "to-forgot", text: t("Forgot your password?"), onclick: () => view("forgot") }),
        opts.allowRegister
          ? el("button", { type: "button", class: "link", id: "to-register", text: t("Create an account"), onclick: () => view("register") })
          : null,
      ),
    ],
    async (f) => {
      const answer = await passwordSignIn(f.elements.email.value.trim(), f.elements.password.value, deviceName(f));
      if (answer.mfa_required) view("second", answer);
      else await opts.onSignedIn(answer);
    },
  );
}

function registerForm(view, opts) {
  const { wrap, box } = newPasswordField("register-password");
  return form(
    { id: "register-form", class: "stack", "aria-label": t("Create an account") },
    [
      field(t("Email"), input({ id: "register-email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: 320 })),
      field(t("Your name"), input({ id: "register-name", name: "full_name", autocomplete: "name", maxlength: 200 })),
      wrap,
      deviceField(),
      el("button", { type: "submit", id: "register", class: "primary", text: t("Create account") }),
      el("button", { type: "button", class: "link", text: t("I have an account"), onclick: () => view("email") }),
    ],
    async (f) => {
      const tokens = await withPasswordFeedback(box, () =>
        register(f.elements.email.value.trim(), f.elements.new_password.value, f.elements.full_name.value.trim(), deviceName(f)),
      );
      notice(t("Welcome! Your account was created."));
      await opts.onSignedIn(tokens);
    },
  );
}

function forgotForm(view) {
  return form(
    { id: "forgot-form", class: "stack", "aria-label": t("Forgot your password?") },
    [
      el("p", { class: "muted", text: t("We will email you a link to choose a new password.") }),
      field(t("Email"), input({ id: "forgot-email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: 320 })),
      el("button", { type: "submit", id: "send-reset", class: "primary", text: t("Email me a link") }),
      el("p", { class: "hint", text: t("In development the email is in the dev outbox (GET /api/v1/dev/outbox?to=…).") }),
      el("button", { type: "button", class: "link", text: t("Back to sign in"), onclick: () => view("email") }),
    ],
    async (f) => {
      await forgotPassword(f.elements.email.value.trim());
      notice(t("If that email has an account, a link is on its way. It works for 30 minutes."));
    },
  );
}

/** The form the emailed link opens: #reset?token=… (settings.email.reset_url). */
export function resetForm(token, onDone) {
  const { wrap, box } = newPasswordField("reset-password");
  return form(
    { id: "reset-form", class: "stack", "aria-label": t("Choose a new password") },
    [wrap, el("button", { type: "submit", id: "reset", class: "primary", text: t("Set new password") })],
    async (f) => {
      await withPasswordFeedback(box, () => resetPassword(token, f.elements.new_password.value));
      notice(t("Password changed. Every device was signed out; sign in with the new password."));
      onDone();
    },
  );
}

function phoneForms(view, opts) {
  let phone = "";
  const codeForm = form(
    { id: "code-form", class: "stack", hidden: true, "aria-label": t("Enter the code") },
    [
      el("p", { class: "muted" }, t("A 6-digit code was sent to "), el("strong", { id: "code-phone" }), "."),
      field(t("Code"), input({ id: "code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "\\d{4,8}", maxlength: 8, required: true })),
      el(
        "div",
        { class: "row" },
        el("button", { type: "submit", id: "verify", class: "primary", text: t("Sign in") }),
        el("button", {
          type: "button",
          id: "fill-code",
          text: t("Fill from dev outbox"),
          onclick: async (e) => {
            try {
              const code = await devCode(phone);
              if (code) $("code").value = code;
              notice(code ? t("Code filled in from the dev outbox.") : t("No code for this number in the dev outbox yet."), code ? "info" : "error");
            } catch (err) {
              if (err.status === 404) notice(t("The dev outbox exists only in development: use the code from the SMS."), "error");
              else showError(err);
            }
            e.target.focus();
          },
        }),
      ),
      el("p", { class: "hint", text: t("In development the code is in the console and in the dev outbox (GET /api/v1/dev/outbox?to=…).") }),
      el("button", {
        type: "button",
        class: "link",
        id: "change-phone",
        text: t("Use another number"),
        onclick: () => {
          codeForm.hidden = true;
          phoneForm.hidden = false;
          $("phone").focus();
        },
      }),
    ],
    async (f) => {
      const code = f.elements.code.value.trim();
      const answer = await verifyCode(phone, code, deviceName(phoneForm));
      if (answer.mfa_required) {
        view("second", answer);
        return;
      }
      notice(answer.is_new_user ? t("Welcome! Your account was created.") : t("Signed in."));
      await opts.onSignedIn(answer);
    },
  );
  const phoneForm = form(
    { id: "phone-form", class: "stack", "aria-label": t("Sign in with your phone") },
    [
      field(t("Phone number"), input({ id: "phone", name: "phone", type: "tel", autocomplete: opts.passkeys ? "tel webauthn" : "tel", required: true, placeholder: PHONE_EXAMPLES[opts.market()] || "" })),
      deviceField(),
      el("button", { type: "submit", id: "send-code", class: "primary", text: t("Send code") }),
    ],
    async (f) => {
      phone = f.elements.phone.value.trim();
      const show = () => {
        $("code-phone").textContent = phone;
        phoneForm.hidden = true;
        codeForm.hidden = false;
        $("code").focus();
      };
      try {
        const sent = await sendCode(phone);
        notice(t("Code sent. It is valid for {n} minutes.", { n: Math.round(sent.expires_in / 60) }));
        show();
      } catch (err) {
        if (err.status === 429) show(); // an earlier code still works
        throw err;
      }
    },
  );
  return [phoneForm, codeForm];
}

/** The second step: the first factor was right; the app's code (or a recovery code) next. */
function secondStepForm(pending, view, opts) {
  let recovery = false;
  const hint = el("p", { class: "muted", id: "mfa-hint" });
  const label = el("label", { for: "mfa-code" });
  const code = input({ id: "mfa-code", name: "code", autocomplete: "one-time-code", required: true, "aria-describedby": "mfa-hint" });
  const toggle = el("button", { type: "button", class: "link", id: "mfa-use-recovery" });
  function show() {
    hint.textContent = recovery
      ? t("Enter one of the recovery codes you saved. Each works once.")
      : t("Enter the 6-digit code your authenticator app shows.");
    label.textContent = recovery ? t("Recovery code") : t("Authenticator code");
    Object.assign(code, { value: "", inputMode: recovery ? "text" : "numeric", maxLength: recovery ? 40 : 6 });
    toggle.textContent = recovery ? t("Use the authenticator app") : t("Use a recovery code instead");
    code.focus();
  }
  toggle.addEventListener("click", () => {
    recovery = !recovery;
    show();
  });
  const node = form(
    { id: "mfa-form", class: "stack", "aria-labelledby": "mfa-title" },
    [
      el("h3", { id: "mfa-title", text: t("Two-step sign-in") }),
      hint,
      el("div", { class: "field" }, label, code),
      el("button", { type: "submit", id: "mfa-verify", class: "primary", text: t("Sign in") }),
      el(
        "div",
        { class: "row" },
        toggle,
        el("button", { type: "button", class: "link", id: "mfa-back", text: t("Back to sign in"), onclick: () => view("email") }),
      ),
    ],
    async () => {
      const value = code.value.trim();
      const tokens = await verifySecondFactor(pending.mfa_token, recovery ? { recovery_code: value } : { code: value });
      notice(t("Signed in."));
      await opts.onSignedIn(tokens);
    },
  );
  show();
  return node;
}

// ---------------------------------------------------------------- passkeys

async function signedInWithPasskey(tokens, opts) {
  if (!tokens) return; // cancelled
  notice(t("Signed in with your passkey."));
  await opts.onSignedIn(tokens);
}

function passkeyButton(opts) {
  return el(
    "div",
    { class: "passkey-choice" },
    el("span", { class: "muted", text: t("or") }),
    el("button", {
      type: "button",
      id: "passkey-sign-in",
      text: t("Sign in with a passkey"),
      onclick: (e) =>
        run(e.currentTarget, async () => signedInWithPasskey(await passkeySignIn({ deviceName: defaultDeviceName() }), opts)),
    }),
  );
}

/** Offer the device's passkeys as autofill on the email and phone fields, where supported. */
async function offerPasskeyAutofill(opts) {
  if (!(await autofillSupported())) return;
  try {
    await signedInWithPasskey(await passkeySignIn({ conditional: true, deviceName: defaultDeviceName() }), opts);
  } catch (err) {
    if (err instanceof ApiError) showError(err); // the browser's own refusals stay quiet here
  }
}

/**
 * The sign-in card. opts: {title, allowRegister, passkeys, market(): code, onSignedIn(tokens),
 * start: "email" | "register" | "forgot" | "phone"}
 */
export function signInCard(opts) {
  const signedIn = opts.onSignedIn;
  opts = {
    ...opts,
    passkeys: Boolean(opts.passkeys) && passkeysSupported(),
    onSignedIn: async (tokens) => {
      cancelPasskeyRequest();
      await signedIn(tokens);
    },
  };
  const body = el("div", { class: "signin-body" });
  const tabs = el("div", { class: "tabs", role: "group", "aria-label": t("How to sign in") });
  const views = {
    email: () => [emailSignIn(view, opts)],
    register: () => [registerForm(view, opts)],
    forgot: () => [forgotForm(view)],
    phone: () => phoneForms(view, opts),
    second: (pending) => [secondStepForm(pending, view, opts)],
  };
  function view(name, arg) {
    body.replaceChildren(...views[name](arg));
    tabs.replaceChildren(
      ...[
        ["email", t("Email")],
        ["phone", t("Phone")],
      ].map(([id, label]) =>
        el("button", {
          type: "button",
          class: "tab",
          id: `tab-${id}`,
          text: label,
          "aria-pressed": String(name === id || (id === "email" && name !== "phone")),
          onclick: () => view(id),
        }),
      ),
    );
    body.querySelector("input")?.focus();
  }
  const card = el(
    "section",
    { class: "card signin", "aria-labelledby": "signin-title" },
    el("h2", { id: "signin-title", text: opts.title }),
    tabs,
    body,
    opts.passkeys ? passkeyButton(opts) : null,
  );
  view(["register", "forgot", "phone"].includes(opts.start) ? opts.start : "email");
  if (opts.passkeys) offerPasskeyAutofill(opts);
  return card;
}
