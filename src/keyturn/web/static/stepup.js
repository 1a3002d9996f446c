// Step-up (RFC 9470), shared by every /app section: actions that could take an account over
// want a recent sign-in. When the API answers 401 insufficient_user_authentication with the
// methods this account has, "Confirm it is you" offers each one a page can take (a passkey,
// an authenticator app's code, the password, a texted code, a recovery code), then the action
// runs again (docs/passkeys-and-step-up.md, docs/second-factors.md). Apple and Google are for
// the shop's apps: their web SDKs would need scripts the page's CSP refuses.

import { api, auth, reauthenticate, sendCode, STEP_UP } from "./api.js";
import { el, errorText, field, notice } from "./dom.js";
import { t } from "./i18n.js";
import { getPasskey, passkeysSupported } from "./webauthn.js";

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
    /** A typed proof: its field and button in a small form, so Enter confirms too. `proof`
     * gets the value as typed (a password's spaces are its own). */
    const typed = (name, label, go, props, proof, hidden = false) => {
      const value = input({ id: `stepup-${name}`, name, ...props });
      const button = el("button", { type: "submit", id: `stepup-${name}-go`, text: go });
      const node = el("form", { class: "stack", novalidate: true, hidden, "aria-label": go }, field(label, value), button);
      node.addEventListener("submit", (event) => {
        event.preventDefault();
        attempt(button, () => proved(proof(value.value)));
      });
      return { node, value };
    };
    /** A button that shows its form (after sending a code, or when asked for). */
    const revealing = (id, text, form, { link = false, before = async () => {} } = {}) =>
      el("button", {
        type: "button",
        class: link ? "link" : null,
        id,
        text,
        onclick: (e) =>
          attempt(e.currentTarget, async () => {
            await before();
            form.node.hidden = false;
            form.value.focus();
          }),
      });

    const parts = [];
    if (methods.includes("passkey") && passkeysSupported()) {
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
    if (methods.includes("totp")) {
      const app = typed(
        "totp",
        t("Authenticator code"),
        t("Confirm with the app's code"),
        { inputmode: "numeric", autocomplete: "one-time-code", pattern: "\\d{6}", maxlength: 6 },
        (code) => ({ method: "totp", code: code.trim() }),
      );
      parts.push(app.node);
    }
    if (methods.includes("password")) {
      const password = typed(
        "password",
        t("Password"),
        t("Confirm with password"),
        { type: "password", autocomplete: "current-password", maxlength: 1024 },
        (password) => ({ method: "password", password }),
      );
      parts.push(password.node);
    }
    if (methods.includes("sms") && auth.user?.phone_number) {
      const phone = auth.user.phone_number;
      const code = typed(
        "code",
        t("Code"),
        t("Confirm with the code"),
        { inputmode: "numeric", autocomplete: "one-time-code", pattern: "\\d{4,8}", maxlength: 8 },
        (code) => ({ method: "sms", verification_code: code.trim() }),
        true,
      );
      parts.push(
        el("div", { class: "stack" }, revealing("stepup-send-code", t("Text a code to {phone}", { phone }), code, { before: () => sendCode(phone) }), code.node),
      );
    }
    if (methods.includes("recovery_code")) {
      const recovery = typed(
        "recovery",
        t("Recovery code"),
        t("Confirm with a recovery code"),
        { autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: 40 },
        (code) => ({ method: "recovery_code", recovery_code: code.trim() }),
        true,
      );
      parts.push(el("div", { class: "stack" }, revealing("stepup-use-recovery", t("Use a recovery code instead"), recovery, { link: true }), recovery.node));
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
