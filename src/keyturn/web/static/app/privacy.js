// Your data (docs/privacy.md): download everything keyturn holds about you as one JSON file,
// or delete the account. Both want a recent sign-in (stepup.js).

import { auth, deleteAccount, download } from "../api.js";
import { $, button, el, notice, saveBlob } from "../dom.js";
import { t } from "../i18n.js";
import { register } from "../router.js";
import { withStepUp } from "../stepup.js";

async function exportData() {
  const file = await withStepUp(() => download("/profile/export"));
  if (file === undefined) return;
  const filename = `keyturn-${auth.market}-${new Date().toISOString().slice(0, 10)}.json`;
  saveBlob(file.blob, filename);
  notice(t("Your data was saved as {file}.", { file: filename }));
}

async function deleteIfSure() {
  const refusal = $("delete-refusal");
  refusal.hidden = $("delete-sure").checked;
  if (!refusal.hidden) {
    $("delete-sure").focus();
    return;
  }
  await withStepUp(deleteAccount); // signed out once done (app.js says so)
}

async function mount(root) {
  root.append(
    el("h1", { class: "visually-hidden", text: t("Your data") }),
    el(
      "div",
      { class: "columns" },
      el(
        "section",
        { id: "export", class: "card", "aria-labelledby": "export-title" },
        el("h2", { id: "export-title", text: t("Download your data") }),
        el("p", { class: "muted", text: t("One JSON file with everything this shop keeps about you: profile, sign-in methods, devices, addresses, cart, wishlist, orders, files and security events. No passwords or tokens.") }),
        button(t("Download my data"), exportData, { class: "primary", id: "export-data" }),
      ),
      el(
        "section",
        { id: "delete", class: "card", "aria-labelledby": "delete-title" },
        el("h2", { id: "delete-title", text: t("Delete your account") }),
        el("p", { text: t("Every device is signed out; your profile, addresses, cart, wishlist, files, passkeys and linked accounts are deleted. Orders are kept for accounting, without your name, phone, email or address.") }),
        el("p", { class: "muted", text: t("The same phone or email can sign up again later, as a new account.") }),
        el(
          "label",
          { class: "choice" },
          el("input", { type: "checkbox", id: "delete-sure" }),
          t("I understand that my account cannot be restored."),
        ),
        el("p", { id: "delete-refusal", class: "refusal", role: "alert", hidden: true, text: t("Tick the box first: a deleted account cannot be restored.") }),
        button(t("Delete my account"), deleteIfSure, { class: "danger", id: "delete-account" }),
      ),
    ),
  );
}

register({ id: "privacy", label: "Your data", nav: true, order: 60, signedIn: true, mount });
