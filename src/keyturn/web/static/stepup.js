// Step-up, shared by /app and /admin (docs/passkeys-and-step-up.md): an action the API
// guards with a recent proof of identity answers 401 auth.insufficient_user_authentication
// with the methods this account has. We ask for one a page can take (the password, the
// authenticator app's code, a recovery code), re-authenticate, and run the action again.

import { reauthenticate, STEP_UP } from "./api.js";
import { el, field, form, notice } from "./dom.js";
import { t } from "./i18n.js";

const PROOFS = {
  password: {
    label: () => t("Your password"),
    other: () => t("Use your password"),
    input: { type: "password", autocomplete: "current-password", maxlength: 1024 },
    proof: (value) => ({ method: "password", password: value }),
  },
  totp: {
    label: () => t("Authenticator code"),
    other: () => t("Use the authenticator app"),
    input: { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 },
    proof: (value) => ({ method: "totp", code: value.trim() }),
  },
  recovery_code: {
    label: () => t("Recovery code"),
    other: () => t("Use a recovery code instead"),
    input: { autocomplete: "off", maxlength: 40 },
    proof: (value) => ({ method: "recovery_code", recovery_code: value.trim() }),
  },
};

/**
 * Run `action()`; when the API asks for a fresher proof, ask for one in `host` and run it
 * once more. Resolves to the action's result, or undefined if the person cancelled.
 */
export async function withStepUp(host, action) {
  try {
    return await action();
  } catch (err) {
    if (err.code !== STEP_UP) throw err;
    if (!(await confirmIdentity(host, err.problem.methods || []))) return undefined;
    return action();
  }
}

/** The "confirm it is you" form in `host`; resolves true once re-authenticated. */
function confirmIdentity(host, methods) {
  const usable = Object.keys(PROOFS).filter((m) => methods.includes(m));
  return new Promise((resolve) => {
    if (!usable.length) {
      notice(t("This change needs a recent sign-in: sign out, sign in again and retry."), "error");
      resolve(false);
      return;
    }
    let method = usable.includes("totp") ? "totp" : usable[0];
    const box = el("div", { class: "step-up stack", id: "step-up", role: "group", "aria-labelledby": "step-up-title" });
    const done = (ok) => {
      box.remove();
      resolve(ok);
    };
    function render() {
      const kind = PROOFS[method];
      const value = el("input", { class: "input", id: "step-up-input", name: "proof", required: true, ...kind.input });
      box.replaceChildren(
        el("h3", { id: "step-up-title", text: t("Confirm it is you") }),
        el("p", { class: "muted", text: t("This change needs a recent sign-in.") }),
        form({ id: "step-up-form", class: "stack", "aria-labelledby": "step-up-title" }, [
          field(kind.label(), value),
          el(
            "div",
            { class: "row" },
            el("button", { type: "submit", class: "primary", id: "step-up-confirm", text: t("Confirm") }),
            el("button", { type: "button", class: "ghost", id: "step-up-cancel", text: t("Cancel"), onclick: () => done(false) }),
          ),
          el(
            "div",
            { class: "row" },
            usable
              .filter((m) => m !== method)
              .map((m) =>
                el("button", {
                  type: "button",
                  class: "link",
                  id: `step-up-use-${m}`,
                  text: PROOFS[m].other(),
                  onclick: () => {
                    method = m;
                    render();
                  },
                }),
              ),
          ),
        ], async (f) => {
          await reauthenticate(kind.proof(f.elements.proof.value));
          done(true);
        }),
      );
      value.focus();
    }
    host.append(box);
    render();
  });
}
