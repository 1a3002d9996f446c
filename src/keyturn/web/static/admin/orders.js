// Staff: orders of this market with filters, one order's detail, the allowed next states.

import { api, auth } from "../api.js";
import { button, el, form, money, notice, statusBadge, when } from "../dom.js";
import { t } from "../i18n.js";
import { orderDetail } from "../orders.js";
import { register, show } from "../router.js";

const STATUSES = ["pending", "processing", "shipped", "delivered", "cancelled"];
const MOVE = {
  processing: () => t("Start processing"),
  shipped: () => t("Mark shipped"),
  delivered: () => t("Mark delivered"),
  cancelled: () => t("Cancel order"),
};

function table(orders) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      { class: "data", id: "admin-orders" },
      el("caption", { class: "visually-hidden", text: t("Orders") }),
      el("thead", {}, el("tr", {}, [t("Order"), t("Status"), t("Placed"), t("Customer"), t("Items"), t("Total")].map((h) => el("th", { scope: "col", text: h })))),
      el(
        "tbody",
        {},
        orders.map((o) =>
          el(
            "tr",
            { dataset: { orderId: o.id } },
            el("td", {}, el("a", { href: `#/orders/${o.id}`, text: o.order_number })),
            el("td", {}, statusBadge(o.status)),
            el("td", { text: when(o.created_at) }),
            el("td", {}, el("a", { href: `#/users/${o.user_id}`, text: `#${o.user_id}` })),
            el("td", { text: o.item_count }),
            el("td", { text: money(o.total_amount, o.currency) }),
          ),
        ),
      ),
    ),
  );
}

function params(f) {
  const p = new URLSearchParams({ limit: "50" });
  const v = (name) => f.elements[name].value.trim();
  if (v("status")) p.set("status", v("status"));
  if (v("number")) p.set("number", v("number"));
  if (v("user_id")) p.set("user_id", v("user_id"));
  if (v("since")) p.set("since", new Date(`${v("since")}T00:00`).toISOString());
  if (v("until")) {
    const end = new Date(`${v("until")}T00:00`);
    end.setDate(end.getDate() + 1);
    p.set("until", end.toISOString());
  }
  return p;
}

async function list(root, route) {
  const box = el("div", { id: "orders-body" });
  const input = (name, label, props = {}) => el("div", { class: "field" }, el("label", { for: `order-${name}`, text: label }), el("input", { id: `order-${name}`, name, ...props }));
  const f = form(
    { class: "filters", "aria-label": t("Filter orders") },
    [
      el(
        "div",
        { class: "field" },
        el("label", { for: "order-status", text: t("Status") }),
        el("select", { id: "order-status", name: "status" }, el("option", { value: "", text: t("Any status") }), STATUSES.map((s) => el("option", { value: s, text: t(s) }))),
      ),
      input("since", t("From"), { type: "date" }),
      input("until", t("To"), { type: "date" }),
      el(
        "div",
        { class: "field" },
        el("label", { for: "order-market", text: t("Market") }),
        el("select", { id: "order-market", name: "market", disabled: true, "aria-describedby": "order-market-hint" }, el("option", { text: auth.market.toUpperCase() })),
        el("small", { class: "hint", id: "order-market-hint", text: t("Each market is a separate shop: sign in to another market to see its orders.") }),
      ),
      input("number", t("Order number"), { maxlength: 32, pattern: "[A-Za-z0-9-]*" }),
      input("user_id", t("Customer id"), { inputmode: "numeric", maxlength: 18, value: route.query.get("user_id") || "" }),
      el("button", { type: "submit", class: "primary", text: t("Show") }),
    ],
    async (form) => {
      const page = await api("GET", `/admin/orders?${params(form)}`);
      box.replaceChildren(page.items.length ? table(page.items) : el("p", { class: "muted", text: t("No orders match.") }));
    },
  );
  root.append(el("section", { class: "card", "aria-labelledby": "orders-title" }, el("h2", { id: "orders-title", text: t("Orders") }), f, box));
  f.requestSubmit();
}

async function detail(root, id) {
  const order = await api("GET", `/admin/orders/${encodeURIComponent(id)}`);
  const actions = order.next_statuses.map((status) =>
    button(MOVE[status] ? MOVE[status]() : status, async () => {
      const moved = await api("POST", `/admin/orders/${order.id}/status`, { body: { status } });
      notice(t("Order {number} is now {status}.", { number: moved.order_number, status: t(moved.status) }));
      await show();
    }, { class: status === "cancelled" ? "ghost danger small" : "primary small", dataset: { status } }),
  );
  actions.push(el("a", { href: `#/users/${order.user_id}`, class: "button ghost small", text: t("Customer #{id}", { id: order.user_id }) }));
  actions.push(el("a", { href: "#/orders", class: "button ghost small", text: t("All orders") }));
  root.append(el("section", { class: "card order-detail", id: "order-detail", "aria-labelledby": "order-title" }, ...orderDetail(order, actions)));
}

register({
  id: "orders",
  label: "Orders",
  nav: true,
  order: 20,
  signedIn: true,
  mount: (root, route) => (route.params[0] ? detail(root, route.params[0]) : list(root, route)),
});
