// Step-up (RFC 9470): actions that could take an account over want a recent sign-in. When the
// API answers 401 insufficient_user_authentication, ask the person to confirm it is them with
// a method their account has, then retry (docs/passkeys-and-step-up.md).

import { api, auth, reauthenticate, sendCode, STEP_UP } from "./api.js";
import { el, errorText, field, notice } from "./dom.js";
import { t } from "./i18n.js";
import { getPasskey } from "./webauthn.js";

/** Run `action`; if it needs a more recent sign-in, confirm identity once and run it again.
 * Resolves undefined when the person closes the dialog instead. */
export async function withStepUp(action) {
  try {
    return await action();
  } catch (err) {
    if (err.code !== STEP_UP) throw err;
    if (!(await confirmIdentity(err.problem.methods || []))) return undefined;
    return action();
  }
}

const input = (props) => el("input", { class: "input", ...props });

/** A modal dialog offering the account's methods; resolves true once re-authenticated. */
export function confirmIdentity(methods) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    // A refusal is said inside the dialog: the page behind a modal dialog is inert.
    const problem = el("p", { id: "stepup-problem", class: "refusal", role: "alert", hidden: true });
    const attempt = async (button, action) => {
      problem.hidden = true;
      button.disabled = true;
      try {
        await action();
      } catch (err) {
        if (err.status === 401 && !auth.signedIn) return finish(false); // signed out meanwhile
        problem.textContent = errorText(err);
        problem.hidden = false;
      } finally {
        button.disabled = false;
      }
    };
    const proved = async (proof) => {
      await reauthenticate(proof);
      notice(t("Thank you: confirmed."));
      finish(true);
    };
    const parts = [];
    if (methods.includes("passkey")) {
      parts.push(
        el("button", {
          type: "button",
          class: "primary",
          id: "stepup-passkey",
          text: t("Use a passkey"),
          onclick: (e) =>
            attempt(e.currentTarget, async () => {
              const options = await api("POST", "/auth/reauthenticate/passkey/options");
              const credential = await getPasskey(options);
              if (credential) await proved({ method: "passkey", credential });
            }),
        }),
      );
    }
    if (methods.includes("password")) {
      const password = input({ id: "stepup-password", type: "password", autocomplete: "current-password", maxlength: 1024 });
      parts.push(
        el(
          "div",
          { class: "stack" },
          field(t("Password"), password),
          el("button", {
            type: "button",
            id: "stepup-password-go",
            text: t("Confirm with password"),
            onclick: (e) => attempt(e.currentTarget, () => proved({ method: "password", password: password.value })),
          }),
        ),
      );
    }
    if (methods.includes("sms") && auth.user?.phone_number) {
      const code = input({ id: "stepup-code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "\\d{4,8}", maxlength: 8, hidden: true });
      const confirm = el("button", {
        type: "button",
        id: "stepup-code-go",
        hidden: true,
        text: t("Confirm with the code"),
        onclick: (e) => attempt(e.currentTarget, () => proved({ method: "sms", verification_code: code.value.trim() })),
      });
      parts.push(
        el(
          "div",
          { class: "stack" },
          el("button", {
            type: "button",
            id: "stepup-send-code",
            text: t("Text a code to {phone}", { phone: auth.user.phone_number }),
            onclick: (e) =>
              attempt(e.currentTarget, async () => {
                await sendCode(auth.user.phone_number);
                code.hidden = false;
                confirm.hidden = false;
                code.focus();
              }),
          }),
          code,
          confirm,
        ),
      );
    }
    const dialog = el(
      "dialog",
      { id: "stepup", class: "card", "aria-labelledby": "stepup-title" },
      el("h2", { id: "stepup-title", text: t("Confirm it is you") }),
      el("p", { class: "muted", text: t("For your safety, this needs a recent sign-in.") }),
      problem,
      parts.length ? parts : el("p", { text: t("Sign out and sign in again to do this.") }),
      el("button", { type: "button", class: "ghost", id: "stepup-cancel", text: t("Cancel"), onclick: () => finish(false) }),
    );
    dialog.addEventListener("cancel", () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
