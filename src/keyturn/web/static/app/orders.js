// Your orders: the list, one order's detail with its status timeline, cancel where allowed.

import { api } from "../api.js";
import { button, el, money, notice, statusBadge, when } from "../dom.js";
import { t, tn } from "../i18n.js";
import { orderDetail } from "../orders.js";
import { register } from "../router.js";

async function list(root) {
  const orders = await api("GET", "/profile/orders?limit=50");
  root.append(
    el(
      "section",
      { id: "orders", class: "card", "aria-labelledby": "orders-title" },
      el("h2", { id: "orders-title", text: t("Orders") }),
      orders.items.length
        ? el(
            "ul",
            { id: "order-list", class: "orders" },
            orders.items.map((o) =>
              el(
                "li",
                { class: "order", dataset: { orderId: o.id } },
                el("a", { class: "order-number", href: `#/orders/${o.id}`, text: o.order_number, "aria-label": t("Order {number}", { number: o.order_number }) }),
                statusBadge(o.status),
                el("span", { class: "muted", text: `${when(o.created_at)} · ${tn(o.item_count, "{n} item", "{n} items")}` }),
                el("span", { class: "amount", text: money(o.total_amount, o.currency) }),
              ),
            ),
          )
        : el("p", { class: "muted", id: "orders-empty", text: t("No orders yet.") }),
    ),
  );
}

async function detail(root, id) {
  const order = await api("GET", `/profile/orders/${encodeURIComponent(id)}`);
  const card = el("section", { id: "order-detail", class: "card order-detail", "aria-labelledby": "order-title" });
  const render = (o) => {
    const actions = [];
    if (o.next_statuses.includes("cancelled")) {
      actions.push(
        button(t("Cancel order"), async () => {
          const cancelled = await api("POST", `/profile/orders/${o.id}/cancel`);
          notice(t("Order {number} cancelled.", { number: cancelled.order_number }));
          render(cancelled);
          card.querySelector("h2").focus();
        }, { class: "ghost danger small", id: "cancel-order" }),
      );
    }
    actions.push(el("a", { href: "#/orders", class: "button ghost small", text: t("All orders") }));
    card.replaceChildren(...orderDetail(o, actions));
    card.querySelector("h2").setAttribute("tabindex", "-1");
  };
  render(order);
  root.append(card);
}

register({
  id: "orders",
  label: "Orders",
  nav: true,
  order: 20,
  signedIn: true,
  mount: (root, route) => (route.params[0] ? detail(root, route.params[0]) : list(root)),
});
