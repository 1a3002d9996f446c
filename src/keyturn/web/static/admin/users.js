// Staff: find an account, read it, end its sessions, disable or enable it.

import { api } from "../api.js";
import { button, el, form, notice, run, when } from "../dom.js";
import { t } from "../i18n.js";
import { go, register } from "../router.js";
import { eventRows } from "./audit.js";

const METHODS = {
  phone: () => t("Phone and SMS code"),
  password: () => t("Email and password"),
  passkey: () => t("Passkey"),
  apple: () => "Apple",
  google: () => "Google",
  totp: () => t("Authenticator app (second step)"),
};

function results(users) {
  if (!users.length) return el("p", { class: "muted", id: "no-users", text: t("No account matches.") });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data", id: "user-results" },
      el("caption", { class: "visually-hidden", text: t("Accounts found") }),
      el("thead", {}, el("tr", {}, [t("Id"), t("Email"), t("Phone"), t("Name"), t("Status")].map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        users.map((u) =>
          el(
            "tr",
            { dataset: { userId: u.id } },
            el("td", {}, el("a", { href: `#/users/${u.id}`, text: `#${u.id}` })),
            el("td", { text: u.email || "—" }),
            el("td", { text: u.phone_number || "—" }),
            el("td", { text: u.full_name || "—" }),
            el("td", { text: u.is_active ? t("enabled") : t("disabled") }),
          ),
        ),
      ),
    ),
  );
}

let lastQuery = "";

async function search(root) {
  const box = el("div", { id: "users-body" });
  const f = form(
    { class: "filters", role: "search" },
    [
      el("div", { class: "field" }, el("label", { for: "user-q", text: t("Phone, email or id") }), el("input", { id: "user-q", name: "q", type: "search", maxlength: 100, value: lastQuery })),
      el("button", { type: "submit", class: "primary", id: "find-user", text: t("Find") }),
    ],
    async (form) => {
      lastQuery = form.elements.q.value.trim();
      const params = new URLSearchParams({ limit: "50" });
      if (lastQuery) params.set("q", lastQuery);
      box.replaceChildren(results((await api("GET", `/admin/users?${params}`)).items));
    },
  );
  root.append(el("section", { class: "card", "aria-labelledby": "users-title" }, el("h2", { id: "users-title", text: t("Users") }), f, box));
  f.requestSubmit();
}

function dl(pairs) {
  return el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "—" })]));
}

async function detail(root, id) {
  const user = await api("GET", `/admin/users/${encodeURIComponent(id)}`);
  const sessions = (await api("GET", `/admin/users/${user.id}/sessions`)).items;
  const events = (await api("GET", `/admin/audit-events?user_id=${user.id}&limit=20`)).items;
  const reload = () => run(null, () => go("users", String(user.id)));
  const toggle = button(
    user.is_active ? t("Disable account") : t("Enable account"),
    async () => {
      const done = await api("POST", `/admin/users/${user.id}/${user.is_active ? "disable" : "enable"}`);
      notice(done.user.is_active ? t("Account enabled.") : t("Account disabled; every session ended."));
      await reload();
    },
    { id: "toggle-account", class: user.is_active ? "danger" : "primary" },
  );
  root.append(
    el(
      "div",
      { class: "columns" },
      el(
        "section",
        { class: "card", id: "user-detail", "aria-labelledby": "user-title" },
        el("h2", { id: "user-title", text: user.full_name || user.email || user.phone_number || `#${user.id}` }),
        dl([
          [t("Id"), `#${user.id}`],
          [t("Email"), user.email],
          [t("Phone"), user.phone_number],
          [t("Role"), user.role],
          [t("Status"), user.is_active ? t("enabled") : t("disabled")],
          [t("Language"), user.language],
          [t("Created"), when(user.created_at)],
          [t("Last sign-in"), user.last_login ? when(user.last_login) : null],
        ]),
        el("h3", { text: t("Sign-in methods") }),
        el("ul", { id: "methods" }, user.sign_in_methods.length ? user.sign_in_methods.map((m) => el("li", { text: METHODS[m] ? METHODS[m]() : m })) : el("li", { text: t("None") })),
        el("div", { class: "row" }, toggle, el("a", { class: "button ghost", href: `#/orders?user_id=${user.id}`, text: t("Their orders") })),
      ),
      el(
        "section",
        { class: "card", "aria-labelledby": "sessions-title" },
        el("h2", { id: "sessions-title", text: t("Sessions") }),
        sessions.length
          ? el(
              "ul",
              { class: "devices", id: "user-sessions" },
              sessions.map((s) =>
                el(
                  "li",
                  { class: "device", dataset: { sessionId: s.id } },
                  el("div", { class: "line-main" }, el("strong", { text: s.device_name || t("Unnamed device") }), el("small", { class: "muted", text: [s.auth_method, s.ip, t("last seen {when}", { when: when(s.last_seen_at) })].filter(Boolean).join(" · ") })),
                  button(t("End session"), async () => {
                    await api("DELETE", `/admin/users/${user.id}/sessions/${s.id}`);
                    notice(t("Session ended."));
                    await reload();
                  }, { class: "ghost small danger", "aria-label": t("End the session on {name}", { name: s.device_name || t("Unnamed device") }) }),
                ),
              ),
            )
          : el("p", { class: "muted", text: t("No live sessions.") }),
        sessions.length
          ? button(t("End every session"), async () => {
              const ended = await api("DELETE", `/admin/users/${user.id}/sessions`);
              notice(t("{n} sessions ended.", { n: ended.sessions_revoked }));
              await reload();
            }, { class: "ghost danger", id: "end-all-sessions" })
          : null,
      ),
    ),
    el(
      "section",
      { class: "card", "aria-labelledby": "user-events-title" },
      el("h2", { id: "user-events-title", text: t("Recent events") }),
      events.length ? eventRows(events, "user-events") : el("p", { class: "muted", text: t("No events yet.") }),
    ),
  );
}

register({
  id: "users",
  label: "Users",
  nav: true,
  order: 10,
  signedIn: true,
  mount: (root, route) => (route.params[0] ? detail(root, route.params[0]) : search(root)),
});
