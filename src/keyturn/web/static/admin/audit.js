// Staff: the audit log, filtered by user, event and time; export as CSV or NDJSON.

import { api, download } from "../api.js";
import { button, el, form, saveBlob, when } from "../dom.js";
import { t } from "../i18n.js";
import { register } from "../router.js";

export function eventRows(events, id = "audit-rows") {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data", id },
      el("caption", { class: "visually-hidden", text: t("Audit events") }),
      el("thead", {}, el("tr", {}, [t("When"), t("Event"), t("User"), t("Address"), t("Details")].map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        events.map((e) =>
          el(
            "tr",
            { dataset: { eventId: e.id } },
            el("td", {}, el("time", { datetime: e.created_at, text: when(e.created_at) })),
            el("td", { text: e.event }),
            el("td", {}, e.user_id ? el("a", { href: `#/users/${e.user_id}`, text: `#${e.user_id}` }) : "—"),
            el("td", { text: e.ip || "—" }),
            el("td", { class: "details", text: Object.keys(e.details || {}).length ? JSON.stringify(e.details) : "" }),
          ),
        ),
      ),
    ),
  );
}

/** The filter form's values as query parameters (dates are local days, sent as UTC). */
function filters(f) {
  const params = new URLSearchParams();
  const user = f.elements.user_id.value.trim();
  if (user) params.set("user_id", user);
  if (f.elements.event.value) params.set("event", f.elements.event.value);
  if (f.elements.since.value) params.set("since", new Date(`${f.elements.since.value}T00:00`).toISOString());
  if (f.elements.until.value) {
    const end = new Date(`${f.elements.until.value}T00:00`);
    end.setDate(end.getDate() + 1);
    params.set("until", end.toISOString());
  }
  return params;
}

async function mount(root, route) {
  const types = (await api("GET", "/admin/audit-events/types")).items;
  const box = el("div", { id: "audit-body" });
  let next = null;
  const more = el("button", { type: "button", class: "more", hidden: true, text: t("Show more") });
  const load = async (f, append) => {
    const params = filters(f);
    params.set("limit", "50");
    if (append && next) params.set("cursor", next);
    const page = await api("GET", `/admin/audit-events?${params}`);
    next = page.next_cursor;
    more.hidden = !next;
    const rows = eventRows(page.items);
    if (append) box.querySelector("tbody").append(...rows.querySelectorAll("tbody tr"));
    else box.replaceChildren(page.items.length ? rows : el("p", { class: "muted", text: t("No events match.") }));
  };
  const exporter = (format) =>
    button(format === "csv" ? t("Export CSV") : t("Export NDJSON"), async () => {
      const params = filters(f);
      params.set("format", format);
      const { blob, filename } = await download(`/admin/audit-events/export?${params}`);
      saveBlob(blob, filename);
    }, { id: `export-${format}`, class: "ghost" });
  const input = (name, label, props) => el("div", { class: "field" }, el("label", { for: `audit-${name}`, text: label }), el("input", { id: `audit-${name}`, name, ...props }));
  const f = form(
    { class: "filters", "aria-label": t("Filter the audit log") },
    [
      input("user_id", t("User id"), { inputmode: "numeric", pattern: "[0-9]*", maxlength: 18, value: route.query.get("user_id") || "" }),
      el(
        "div",
        { class: "field" },
        el("label", { for: "audit-event", text: t("Event") }),
        el("select", { id: "audit-event", name: "event" }, el("option", { value: "", text: t("Any event") }), types.map((e) => el("option", { value: e, text: e }))),
      ),
      input("since", t("From"), { type: "date" }),
      input("until", t("To"), { type: "date" }),
      el("button", { type: "submit", class: "primary", text: t("Show") }),
      exporter("csv"),
      exporter("ndjson"),
    ],
    (form) => load(form, false),
  );
  more.addEventListener("click", () => load(f, true));
  root.append(el("section", { class: "card", "aria-labelledby": "audit-title" }, el("h2", { id: "audit-title", text: t("Audit log") }), f, box, more));
  await load(f, false);
}

register({ id: "audit", label: "Audit log", nav: true, order: 40, signedIn: true, mount });
