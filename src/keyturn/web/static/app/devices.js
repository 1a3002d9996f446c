// Your devices: every live session, "this device" marked; end one, or all the others.

import { api, logout } from "../api.js";
import { $, button, el, notice, when } from "../dom.js";
import { t } from "../i18n.js";
import { register } from "../router.js";

async function renderDevices() {
  const sessions = await api("GET", "/auth/sessions");
  $("device-list").replaceChildren(
    ...sessions.items.map((s) => {
      const name = s.device_name || t("Unnamed device");
      const details = [s.auth_method, s.ip, t("last seen {when}", { when: when(s.last_seen_at) })].filter(Boolean);
      return el(
        "li",
        { class: `device${s.current ? " current" : ""}`, dataset: { sessionId: s.id } },
        el(
          "div",
          { class: "line-main" },
          el("strong", {}, name, s.current ? el("span", { class: "badge ok", text: t("This device") }) : null),
          el("small", { class: "muted", text: details.join(" · ") }),
          s.user_agent ? el("small", { class: "muted ua", title: s.user_agent, text: s.user_agent }) : null,
        ),
        button(
          s.current ? t("Sign out") : t("End session"),
          async () => {
            if (s.current) return logout("current");
            await api("DELETE", `/auth/sessions/${encodeURIComponent(s.id)}`);
            notice(t("{name} was signed out.", { name }));
            await renderDevices();
          },
          { class: "ghost small danger", "aria-label": t("Sign {name} out", { name }) },
        ),
      );
    }),
  );
  $("logout-others").hidden = sessions.items.length < 2;
}

async function mount(root) {
  root.append(
    el(
      "section",
      { id: "devices", class: "card", "aria-labelledby": "devices-title" },
      el("h2", { id: "devices-title", text: t("Devices") }),
      el("p", { class: "muted", text: t("Every device signed in to your account. End a session you do not recognise.") }),
      el("ul", { id: "device-list", class: "devices" }),
      el(
        "div",
        { class: "row" },
        button(t("Sign out all other devices"), async () => {
          await logout("others");
          notice(t("Every other device was signed out."));
          await renderDevices();
        }, { class: "ghost", id: "logout-others" }),
      ),
    ),
  );
  await renderDevices();
}

register({ id: "devices", label: "Devices", nav: true, order: 50, signedIn: true, mount });
