// An order's detail, shared by /app and /admin: items, address, and the status history
// as a timeline.

import { el, money, statusBadge, when } from "./dom.js";
import { t } from "./i18n.js";

export function orderItems(order) {
  const row = (cells, tag = "td") => el("tr", {}, cells.map((c) => el(tag, { text: c })));
  return el(
    "table",
    { class: "items" },
    el("caption", { class: "visually-hidden", text: t("Items of order {number}", { number: order.order_number }) }),
    el("thead", {}, row([t("Item"), t("Qty"), t("Price"), t("Total")], "th")),
    el("tbody", {}, order.items.map((i) => row([`${i.product_name} (${i.sku_code})`, i.quantity, i.unit_price, i.line_total]))),
    el("tfoot", {}, el("tr", {}, el("th", { colspan: 3, text: t("Total") }), el("th", { text: money(order.total_amount, order.currency) }))),
  );
}

export function addressLines(address) {
  return [
    address.full_name,
    address.line1,
    address.line2,
    [address.city, address.region, address.postal_code].filter(Boolean).join(", "),
    address.country,
    address.phone,
  ].filter(Boolean);
}

const ACTORS = {
  customer: () => t("by the customer"),
  admin: () => t("by the shop"),
  system: () => t("by keyturn"),
};

export function timeline(order) {
  return el(
    "ol",
    { class: "timeline", "aria-label": t("Status history") },
    order.history.map((h, n) =>
      el(
        "li",
        { class: n === order.history.length - 1 ? "now" : "" },
        statusBadge(h.status),
        el("time", { datetime: h.at, text: when(h.at) }),
        el("span", { class: "muted", text: ACTORS[h.actor] ? ACTORS[h.actor]() : h.actor }),
      ),
    ),
  );
}

/** The detail card's body; `actions` are the buttons the page offers for this order. */
export function orderDetail(order, actions = []) {
  const address = addressLines(order.shipping_address || {});
  return [
    el("div", { class: "detail-head" }, el("h2", { id: "order-title", text: t("Order {number}", { number: order.order_number }) }), statusBadge(order.status), ...actions),
    el("p", { class: "muted", text: t("Placed {when}", { when: when(order.created_at) }) }),
    orderItems(order),
    el(
      "div",
      { class: "detail-cols" },
      el("div", {}, el("h3", { text: t("Ship to") }), el("address", {}, address.map((line) => el("div", { text: line })))),
      el("div", {}, el("h3", { text: t("History") }), timeline(order)),
    ),
    order.note ? el("p", { class: "muted", text: t("Note: {note}", { note: order.note }) }) : null,
  ].filter(Boolean);
}
