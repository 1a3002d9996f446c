// Security: the authenticator app that is the second step at sign-in, and its recovery codes
// (docs/second-factors.md). Adding it, removing it and new codes need a recent sign-in
// (stepup.js asks for one when the API says so). Recovery codes are shown once.

import { api } from "../api.js";
import { $, button, day, el, field, form, notice, saveBlob } from "../dom.js";
import { t, tn } from "../i18n.js";
import { register } from "../router.js";
import { withStepUp } from "../stepup.js";

const body = () => $("mfa-body");

async function render() {
  const status = await api("GET", "/profile/mfa");
  body().replaceChildren(...(status.totp_enabled ? enabledView(status) : offView()));
}

function offView() {
  return [
    el("p", { id: "mfa-state", text: t("Two-step sign-in is off.") }),
    el("p", {
      class: "muted",
      text: t("Add an authenticator app: after your password or phone code, signing in also asks for the 6-digit code the app shows."),
    }),
    button(
      t("Add an authenticator app"),
      async () => {
        const enrolment = await withStepUp(() => api("POST", "/profile/mfa/totp"));
        if (enrolment) body().replaceChildren(...enrolView(enrolment));
      },
      { id: "add-totp", class: "primary" },
    ),
  ];
}

function enrolView(enrolment) {
  const qr = el("img", {
    id: "totp-qr",
    class: "qr",
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`,
    alt: t("QR code for your authenticator app"),
  });
  const code = el("input", { class: "input", id: "totp-code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6, required: true });
  return [
    el("p", { text: t("1. Scan this QR code with your authenticator app.") }),
    qr,
    el("p", { class: "muted" }, t("Or type this key into the app: "), el("code", { id: "totp-secret", text: enrolment.secret })),
    form(
      { id: "totp-confirm-form", class: "stack", "aria-label": t("Confirm the authenticator app") },
      [
        field(t("2. The 6-digit code the app shows"), code),
        el(
          "div",
          { class: "row" },
          el("button", { type: "submit", class: "primary", id: "totp-confirm", text: t("Turn on") }),
          button(t("Cancel"), render, { class: "ghost", id: "totp-cancel" }),
        ),
      ],
      async () => {
        const confirmed = await api("POST", "/profile/mfa/totp/confirm", { body: { code: code.value.trim() } });
        notice(t("Two-step sign-in is on."));
        showCodes(confirmed.recovery_codes);
      },
    ),
  ];
}

/** The recovery codes, this once: a list, a download, and a button to go on. */
function showCodes(codes) {
  body().replaceChildren(
    el("h3", { id: "codes-title", tabindex: "-1", text: t("Your recovery codes") }),
    el("p", {
      class: "banner",
      role: "note",
      text: t("Save these codes somewhere safe now: each signs you in once if you lose your phone, and they are not shown again."),
    }),
    el("ol", { id: "recovery-codes", class: "codes", "aria-labelledby": "codes-title" }, codes.map((c) => el("li", {}, el("code", { text: c })))),
    el(
      "div",
      { class: "row" },
      button(t("Download"), async () => saveBlob(new Blob([`${codes.join("\n")}\n`], { type: "text/plain" }), "keyturn-recovery-codes.txt"), { id: "download-codes" }),
      button(t("I have saved them"), render, { id: "codes-saved", class: "primary" }),
    ),
  );
  $("codes-title").focus();
}

function enabledView(status) {
  const since = status.enabled_at ? day(status.enabled_at) : "";
  return [
    el("p", { id: "mfa-state" }, el("span", { class: "badge ok", text: t("On") }), " ", t("Signing in asks for your authenticator app's code (since {day}).", { day: since })),
    el("p", {
      id: "codes-left",
      class: status.recovery_codes_remaining > 2 ? "muted" : "",
      text: tn(status.recovery_codes_remaining, "{n} recovery code left.", "{n} recovery codes left."),
    }),
    el(
      "div",
      { class: "row" },
      button(
        t("New recovery codes"),
        async () => {
          const replaced = await withStepUp(() => api("POST", "/profile/mfa/recovery-codes"));
          if (replaced) showCodes(replaced.recovery_codes);
        },
        { id: "new-codes" },
      ),
      button(
        t("Remove the authenticator app"),
        async () => {
          const removed = await withStepUp(() => api("DELETE", "/profile/mfa/totp"));
          if (!removed) return;
          notice(t("The authenticator app was removed: signing in takes one step again."));
          await render();
        },
        { id: "remove-totp", class: "ghost danger" },
      ),
    ),
  ];
}

async function mount(root) {
  root.append(
    el("h1", { class: "visually-hidden", text: t("Security") }),
    el(
      "section",
      { class: "card narrow", id: "second-factor", "aria-labelledby": "mfa-title" },
      el("h2", { id: "mfa-title", text: t("Two-step sign-in") }),
      el("div", { id: "mfa-body", class: "stack" }),
    ),
  );
  await render();
}

register({ id: "security", label: "Security", nav: true, order: 45, signedIn: true, mount });
