// Staff: webhook endpoints (docs/webhooks.md): list, add, turn off and on, rotate the secret,
// read the recent deliveries and send a failed one again. A secret is shown once, here.

import { api } from "../api.js";
import { button, el, form, notice, when } from "../dom.js";
import { t } from "../i18n.js";
import { go, register } from "../router.js";

/** The secret the API shows once, with what to do with it. */
function secretBox(secret) {
  return el(
    "div",
    { class: "hint secret-box", id: "webhook-secret", role: "status" },
    el("p", { text: t("The signing secret. Copy it now: it is not shown again.") }),
    el("code", { class: "details", id: "webhook-secret-value", text: secret }),
  );
}

function endpointRows(hooks) {
  if (!hooks.length) return el("p", { class: "muted", id: "no-webhooks", text: t("No endpoints yet.") });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data", id: "webhook-rows" },
      el("caption", { class: "visually-hidden", text: t("Webhook endpoints") }),
      el("thead", {}, el("tr", {}, [t("URL"), t("Events"), t("Status"), t("Description")].map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        hooks.map((h) =>
          el(
            "tr",
            { dataset: { webhookId: h.id } },
            el("td", { class: "details" }, el("a", { href: `#/webhooks/${h.id}`, text: h.url })),
            el("td", { text: h.event_types.join(", ") }),
            el("td", { text: h.enabled ? t("on") : t("off") }),
            el("td", { text: h.description || "—" }),
          ),
        ),
      ),
    ),
  );
}

/** Event type checkboxes: "every event", or the types ticked one by one. */
function typeChoices(types) {
  const every = el("input", { type: "checkbox", name: "every", value: "*", checked: true });
  const boxes = types.map((e) => el("input", { type: "checkbox", name: "type", value: e.type, disabled: true }));
  every.addEventListener("change", () => boxes.forEach((b) => (b.disabled = every.checked)));
  return el(
    "fieldset",
    { class: "types" },
    el("legend", { text: t("Events to send") }),
    el("label", { class: "choice" }, every, t("Every event")),
    el(
      "div",
      { class: "type-grid" },
      types.map((e, i) => el("label", { class: "choice", title: e.description }, boxes[i], e.type)),
    ),
  );
}

async function list(root) {
  const hooks = (await api("GET", "/admin/webhooks")).items;
  const types = await api("GET", "/admin/event-types");
  const created = el("div", { "aria-live": "polite" });
  const add = form(
    { class: "stack", id: "webhook-form", "aria-labelledby": "add-webhook-title" },
    [
      el("div", { class: "field" }, el("label", { for: "webhook-url", text: t("URL") }), el("input", { id: "webhook-url", name: "url", type: "url", maxlength: 2048, required: true, placeholder: "https://hooks.example.com/keyturn" })),
      el("div", { class: "field" }, el("label", { for: "webhook-description", text: t("Description") }), el("input", { id: "webhook-description", name: "description", maxlength: 200 })),
      typeChoices(types),
      el("div", { class: "row" }, el("button", { type: "submit", class: "primary", id: "add-webhook", text: t("Add endpoint") })),
    ],
    async (f) => {
      const chosen = [...f.querySelectorAll("input[name=type]:checked")].map((b) => b.value);
      const event_types = f.elements.every.checked ? ["*"] : chosen;
      if (!event_types.length) {
        notice(t("Choose at least one event type."), "error");
        return;
      }
      const body = { url: f.elements.url.value.trim(), event_types };
      const description = f.elements.description.value.trim();
      if (description) body.description = description;
      const hook = await api("POST", "/admin/webhooks", { body });
      f.reset();
      f.querySelectorAll("input[name=type]").forEach((b) => (b.disabled = true));
      notice(t("Endpoint added."));
      listBox.replaceChildren(endpointRows((await api("GET", "/admin/webhooks")).items));
      created.replaceChildren(secretBox(hook.secret));
    },
  );
  const listBox = el("div", { id: "webhooks-body" }, endpointRows(hooks));
  root.append(
    el("section", { class: "card", "aria-labelledby": "webhooks-title" }, el("h2", { id: "webhooks-title", text: t("Webhooks") }), el("p", { class: "muted", text: t("keyturn sends each event to every endpoint that asked for its type, signed with the endpoint's secret (Standard Webhooks).") }), listBox),
    el("section", { class: "card", "aria-labelledby": "add-webhook-title" }, el("h2", { id: "add-webhook-title", text: t("Add an endpoint") }), add, created),
  );
}

function deliveryRows(hook, deliveries, reload) {
  if (!deliveries.length) return el("p", { class: "muted", id: "no-deliveries", text: t("Nothing sent yet.") });
  const words = { pending: t("pending"), delivered: t("delivered"), failed: t("failed") };
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data", id: "delivery-rows" },
      el("caption", { class: "visually-hidden", text: t("Recent deliveries") }),
      el("thead", {}, el("tr", {}, [t("When"), t("Event"), t("Status"), t("Attempts"), t("Response"), t("Duration"), ""].map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        deliveries.map((d) =>
          el(
            "tr",
            { dataset: { deliveryId: d.id, status: d.status } },
            el("td", {}, el("time", { datetime: d.created_at, text: when(d.created_at) })),
            el("td", { text: d.event_type }),
            el("td", {}, el("span", { class: `badge status-${d.status}`, text: words[d.status] || d.status })),
            el("td", { text: String(d.attempt) }),
            el("td", { text: d.response_code ?? "—" }),
            el("td", { text: d.duration_ms === null ? "—" : t("{ms} ms", { ms: d.duration_ms }) }),
            el(
              "td",
              {},
              d.status === "pending"
                ? null
                : button(t("Send again"), async () => {
                    await api("POST", `/admin/webhooks/${hook.id}/deliveries/${d.id}/replay`);
                    notice(t("It will be sent again now."));
                    await reload();
                  }, { class: "ghost small", "aria-label": t("Send delivery {id} again", { id: d.id }) }),
            ),
          ),
        ),
      ),
    ),
  );
}

async function detail(root, id) {
  const hook = await api("GET", `/admin/webhooks/${encodeURIComponent(id)}`);
  const box = el("div", { id: "deliveries-body" });
  const reload = async () => box.replaceChildren(deliveryRows(hook, (await api("GET", `/admin/webhooks/${hook.id}/deliveries?limit=20`)).items, reload));
  const rotated = el("div", { "aria-live": "polite" });
  const toggle = button(hook.enabled ? t("Turn off") : t("Turn on"), async () => {
    await api("PATCH", `/admin/webhooks/${hook.id}`, { body: { enabled: !hook.enabled } });
    notice(hook.enabled ? t("Endpoint turned off: nothing is sent to it.") : t("Endpoint turned on."));
    go("webhooks", String(hook.id));
  }, { id: "toggle-webhook", class: hook.enabled ? "danger" : "primary" });
  const rotate = button(t("Rotate secret"), async () => {
    const answer = await api("POST", `/admin/webhooks/${hook.id}/rotate-secret`, { body: {} });
    notice(t("New secret made; the old one keeps signing until {when}.", { when: when(answer.previous_secret_expires_at) }));
    rotated.replaceChildren(secretBox(answer.secret));
  }, { id: "rotate-secret", class: "ghost" });
  root.append(
    el(
      "section",
      { class: "card", id: "webhook-detail", "aria-labelledby": "webhook-title" },
      el("h2", { id: "webhook-title", text: hook.description || t("Webhook endpoint") }),
      el(
        "dl",
        { class: "facts" },
        [
          [t("URL"), hook.url],
          [t("Events"), hook.event_types.join(", ")],
          [t("Status"), hook.enabled ? t("on") : t("off")],
          [t("Created"), when(hook.created_at)],
          [t("Old secret signs until"), hook.previous_secret_expires_at ? when(hook.previous_secret_expires_at) : null],
        ].flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "—" })]),
      ),
      el("div", { class: "row" }, toggle, rotate, el("a", { class: "button ghost", href: "#/webhooks", text: t("All endpoints") })),
      rotated,
    ),
    el("section", { class: "card", "aria-labelledby": "deliveries-title" }, el("h2", { id: "deliveries-title", text: t("Recent deliveries") }), button(t("Refresh"), reload, { id: "refresh-deliveries", class: "ghost small" }), box),
  );
  await reload();
}

register({
  id: "webhooks",
  label: "Webhooks",
  nav: true,
  order: 50,
  signedIn: true,
  mount: (root, route) => (route.params[0] ? detail(root, route.params[0]) : list(root)),
});
