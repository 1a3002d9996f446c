// Your passkeys: add one (it signs you in without a phone or password), rename, remove.
// Adding and removing want a recent sign-in (stepup.js).

import { api } from "../api.js";
import { $, button, el, field, form, notice, run, when } from "../dom.js";
import { t } from "../i18n.js";
import { register } from "../router.js";
import { withStepUp } from "../stepup.js";
import { createPasskey, passkeysSupported } from "../webauthn.js";

async function addPasskey() {
  const added = await withStepUp(async () => {
    const options = await api("POST", "/profile/passkeys/options");
    const credential = await createPasskey(options);
    return api("POST", "/profile/passkeys", { body: { credential } });
  });
  if (added) {
    notice(t("Passkey added. Next time, sign in with it."));
    await renderPasskeys();
  }
}

function renameForm(passkey) {
  return form(
    { class: "row", "aria-label": t("Rename {name}", { name: passkey.name }) },
    [
      field(t("Name"), el("input", { class: "input", name: "name", required: true, maxlength: 100, value: passkey.name })),
      el("button", { type: "submit", class: "primary small", text: t("Save") }),
      el("button", { type: "button", class: "ghost small", text: t("Cancel"), onclick: () => run(null, renderPasskeys) }),
    ],
    async (f) => {
      await api("PATCH", `/profile/passkeys/${passkey.id}`, { body: { name: f.elements.name.value.trim() } });
      notice(t("Passkey renamed."));
      await renderPasskeys();
    },
  );
}

function passkeyLine(passkey) {
  const details = [
    passkey.authenticator,
    passkey.backup_eligible ? t("synced") : t("this device only"),
    t("added {when}", { when: when(passkey.created_at) }),
    passkey.last_used_at ? t("last used {when}", { when: when(passkey.last_used_at) }) : t("never used"),
  ].filter(Boolean);
  const item = el(
    "li",
    { class: "device", dataset: { passkeyId: passkey.id } },
    el("div", { class: "line-main" }, el("strong", { text: passkey.name }), el("small", { class: "muted", text: details.join(" · ") })),
    el(
      "div",
      { class: "row" },
      el("button", {
        type: "button",
        class: "ghost small",
        text: t("Rename"),
        "aria-label": t("Rename {name}", { name: passkey.name }),
        onclick: () => {
          item.replaceChildren(renameForm(passkey));
          item.querySelector("input").focus();
        },
      }),
      button(
        t("Remove"),
        async () => {
          const removed = await withStepUp(() => api("DELETE", `/profile/passkeys/${passkey.id}`));
          if (removed !== undefined) {
            notice(t("{name} was removed.", { name: passkey.name }));
            await renderPasskeys();
          }
        },
        { class: "ghost small danger", "aria-label": t("Remove {name}", { name: passkey.name }) },
      ),
    ),
  );
  return item;
}

async function renderPasskeys() {
  const { items } = await api("GET", "/profile/passkeys");
  $("passkey-list").replaceChildren(...items.map(passkeyLine));
  $("no-passkeys").hidden = items.length > 0;
}

async function mount(root) {
  const supported = passkeysSupported();
  root.append(
    el(
      "section",
      { id: "passkeys", class: "card", "aria-labelledby": "passkeys-title" },
      el("h2", { id: "passkeys-title", text: t("Passkeys") }),
      el("p", { class: "muted", text: t("A passkey signs you in with your fingerprint, face or screen lock: no code, no password.") }),
      supported
        ? button(t("Add a passkey"), addPasskey, { class: "primary", id: "add-passkey" })
        : el("p", { class: "notice error", text: t("This browser cannot use passkeys.") }),
      el("p", { id: "no-passkeys", class: "muted", hidden: true, text: t("You have no passkeys yet.") }),
      el("ul", { id: "passkey-list", class: "devices" }),
    ),
  );
  await renderPasskeys();
}

register({ id: "passkeys", label: "Passkeys", nav: true, order: 45, signedIn: true, mount });
