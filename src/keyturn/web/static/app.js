// The /app page: sign in with a phone code, shop, check out, manage devices.
// Every piece of data reaches the DOM through textContent / text nodes (el() below),
// never through innerHTML, so product names or addresses cannot inject markup.

import { ApiError, api, auth, devCode, logout, refresh, sendCode, verifyCode } from "./api.js";

const MARKETS = {
  us: { country: "US", phone: "+1 312 555 0100" },
  kg: { country: "KG", phone: "+996 700 123 456" },
};
const MARKET_KEY = "keyturn.market"; // only the chosen market: never a token
const PAGE_SIZE = 12;
const CANCELLABLE = new Set(["pending", "processing"]);

const state = {
  query: "",
  nextCursor: null,
  products: new Map(), // id → product, also used by the wishlist to offer SKUs
  phone: "",
  checkout: null, // {key, body}: the Idempotency-Key is reused only to retry the same order
  openOrder: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const money = (amount, currency) => `${amount} ${currency}`;
const when = (iso) => new Date(iso).toLocaleString();
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---------------------------------------------------------------- notices and errors

let noticeTimer = null;

function notice(message, kind = "info") {
  const box = $("notice");
  $("notice-text").textContent = message;
  box.className = `notice ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== "error") noticeTimer = setTimeout(() => (box.hidden = true), 5000);
}

function showError(err) {
  if (!(err instanceof ApiError)) {
    console.error(err);
    notice("Something went wrong in this page. Reload and try again.", "error");
    return;
  }
  if (err.status === 401 && !auth.signedIn) return; // the signed-out handler already said so
  const parts = [err.message];
  const problem = err.problem;
  if (Array.isArray(problem.errors) && problem.errors.length) {
    parts.push(`(${problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ")})`);
  }
  if (typeof problem.attempts_remaining === "number") {
    parts.push(`${plural(problem.attempts_remaining, "attempt")} left.`);
  }
  notice(parts.join(" "), "error");
}

/** Runs an action with its button disabled; errors become a notice with the problem detail. */
async function run(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------- market

function chooseMarket(code) {
  const market = MARKETS[code] ? code : "us";
  auth.setMarket(market);
  $("market").value = market;
  $("phone").placeholder = MARKETS[market].phone;
  localStorage.setItem(MARKET_KEY, market);
}

async function switchMarket() {
  chooseMarket($("market").value);
  showPhoneForm();
  await run(null, () => loadProducts(true));
}

// ---------------------------------------------------------------- sign-in

function defaultDeviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "Browser";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Mac OS X/.test(ua)
        ? "macOS"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : "web";
  return `${browser} on ${os}`;
}

function showPhoneForm() {
  $("phone-form").hidden = false;
  $("code-form").hidden = true;
  $("code").value = "";
}

function showCodeForm() {
  $("code-phone").textContent = state.phone;
  $("phone-form").hidden = true;
  $("code-form").hidden = false;
  $("code").focus();
}

async function requestCode(button) {
  const phone = $("phone").value.trim();
  if (!phone) {
    notice("Enter your phone number with its country code.", "error");
    return;
  }
  state.phone = phone;
  try {
    button.disabled = true;
    const sent = await sendCode(phone);
    notice(`Code sent. It is valid for ${Math.round(sent.expires_in / 60)} minutes.`);
    showCodeForm();
  } catch (err) {
    showError(err);
    if (err.status === 429 && $("code-form").hidden) showCodeForm(); // an earlier code still works
  } finally {
    button.disabled = false;
  }
}

async function fillFromOutbox(button) {
  try {
    button.disabled = true;
    const code = await devCode(state.phone);
    if (code) {
      $("code").value = code;
      notice("Code filled in from the dev outbox.");
    } else {
      notice("No code for this number in the dev outbox yet.", "error");
    }
  } catch (err) {
    if (err.status === 404) {
      notice("The dev outbox exists only in development: use the code from the SMS.", "error");
    } else {
      showError(err);
    }
  } finally {
    button.disabled = false;
  }
}

async function signIn(button) {
  const code = $("code").value.trim();
  if (!/^\d{4,8}$/.test(code)) {
    notice("Enter the 6-digit code.", "error");
    return;
  }
  const device = $("device-name").value.trim() || defaultDeviceName();
  const tokens = await run(button, () => verifyCode(state.phone, code, device));
  if (!tokens) return;
  notice(tokens.is_new_user ? "Welcome! Your account was created." : "Signed in.");
  await enterSignedIn();
}

// ---------------------------------------------------------------- signed in / out

async function enterSignedIn() {
  const user = auth.user;
  $("who").textContent = user.phone_number || user.email || `User ${user.id}`;
  $("account").hidden = false;
  $("market").disabled = true;
  $("market-note").hidden = false;
  $("signin").hidden = true;
  showPhoneForm();
  for (const id of ["cart", "wishlist", "orders", "devices"]) $(id).hidden = false;
  const form = $("checkout-form");
  if (!form.elements.phone.value) form.elements.phone.value = user.phone_number || "";
  if (!form.elements.full_name.value) form.elements.full_name.value = user.full_name || "";
  if (!form.elements.country.value) form.elements.country.value = MARKETS[auth.market].country;
  await run(null, () => Promise.all([loadCart(), loadWishlist(), loadOrders(), loadDevices()]));
}

function showSignedOut() {
  $("account").hidden = true;
  $("market").disabled = false;
  $("market-note").hidden = true;
  $("signin").hidden = false;
  for (const id of ["cart", "checkout", "wishlist", "orders", "devices"]) $(id).hidden = true;
  for (const id of ["cart-lines", "wishlist-items", "order-list", "device-list"]) {
    $(id).replaceChildren();
  }
  $("order-detail").hidden = true;
  $("checkout-form").reset();
  state.openOrder = null;
  state.checkout = null;
}

auth.onSignedOut((reason) => {
  showSignedOut();
  if (reason === "expired") notice("Your session has ended. Sign in again.", "error");
  else notice("Signed out.");
});

function requireSignIn() {
  if (auth.signedIn) return true;
  notice("Sign in first: your cart and wishlist belong to your account.", "error");
  $("phone").focus();
  return false;
}

// ---------------------------------------------------------------- catalog

/** "M", or "M — 14.99 USD" when the product's options differ in price. */
function skuLabel(sku, withPrice = true) {
  const attrs = Object.values(sku.attributes || {}).join(" / ") || "Standard";
  const price = withPrice ? ` — ${money(sku.price, sku.currency)}` : "";
  return `${attrs}${price}${sku.in_stock ? "" : " (out of stock)"}`;
}

function thumbnail(product) {
  if (product.image_url && /^https:\/\//.test(product.image_url)) {
    return el("img", { class: "thumb", src: product.image_url, alt: "", loading: "lazy" });
  }
  const initials = product.name
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => w[0] || "")
    .join("")
    .toUpperCase();
  return el("div", { class: `thumb hue-${product.id % 6}`, "aria-hidden": "true", text: initials });
}

function productCard(product) {
  const forSale = product.skus.filter((s) => s.in_stock);
  const pricesDiffer = new Set(product.skus.map((s) => s.price)).size > 1;
  const select = el(
    "select",
    { class: "sku", "aria-label": `Option of ${product.name}` },
    product.skus.map((s) =>
      el("option", { value: s.id, disabled: !s.in_stock }, skuLabel(s, pricesDiffer)),
    ),
  );
  if (forSale.length) select.value = String(forSale[0].id);
  const price = el("span", { class: "price" });
  const showPrice = () => {
    const sku = product.skus.find((s) => String(s.id) === select.value);
    price.textContent = sku ? money(sku.price, sku.currency) : "";
  };
  select.addEventListener("change", showPrice);
  showPrice();
  const quantity = el("input", {
    class: "qty",
    type: "number",
    min: 1,
    max: 99,
    value: 1,
    "aria-label": `Quantity of ${product.name}`,
  });
  const add = el("button", {
    type: "button",
    class: "primary",
    disabled: !forSale.length,
    text: forSale.length ? "Add to cart" : "Out of stock",
    onclick: () => run(add, () => addToCart(Number(select.value), Number(quantity.value))),
  });
  const save = el("button", {
    type: "button",
    class: "ghost heart",
    title: "Save to wishlist",
    "aria-label": `Save ${product.name} to wishlist`,
    text: "♡",
    onclick: () => run(save, () => addToWishlist(product)),
  });
  return el(
    "li",
    { class: "product", dataset: { productId: product.id } },
    thumbnail(product),
    el(
      "div",
      { class: "product-body" },
      el("div", { class: "product-title" }, el("h3", { text: product.name }), price),
      product.description ? el("p", { class: "desc", text: product.description }) : null,
      el("div", { class: "buy" }, select, quantity, add, save),
    ),
  );
}

async function loadProducts(reset) {
  const list = $("products");
  if (reset) {
    state.nextCursor = null;
    list.replaceChildren();
  }
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.query) params.set("q", state.query);
  if (state.nextCursor) params.set("cursor", state.nextCursor);
  const page = await api("GET", `/products?${params}`, { bearer: false });
  for (const product of page.items) state.products.set(product.id, product);
  list.append(...page.items.map(productCard));
  state.nextCursor = page.next_cursor;
  $("more").hidden = !page.next_cursor;
  $("products-empty").hidden = list.children.length > 0;
}

// ---------------------------------------------------------------- cart

async function addToCart(skuId, quantity) {
  if (!requireSignIn()) return;
  const cart = await api("POST", "/cart/items", { body: { sku_id: skuId, quantity } });
  renderCart(cart);
  notice("Added to your cart.");
}

function cartLine(line) {
  const quantity = el("input", {
    class: "qty",
    type: "number",
    min: 1,
    max: 99,
    value: line.quantity,
    "aria-label": `Quantity of ${line.product_name}`,
  });
  quantity.addEventListener("change", () =>
    run(quantity, async () => {
      try {
        const body = { quantity: Number(quantity.value) };
        renderCart(await api("PUT", `/cart/items/${line.id}`, { body }));
      } catch (err) {
        quantity.value = line.quantity;
        throw err;
      }
    }),
  );
  const remove = el("button", {
    type: "button",
    class: "ghost small",
    text: "Remove",
    "aria-label": `Remove ${line.product_name}`,
    onclick: () =>
      run(remove, async () => renderCart(await api("DELETE", `/cart/items/${line.id}`))),
  });
  return el(
    "li",
    { class: "line", dataset: { lineId: line.id, skuId: line.sku_id } },
    el(
      "div",
      { class: "line-main" },
      el("strong", { text: line.product_name }),
      el("small", { class: "muted", text: `${line.sku_code} · ${line.unit_price} each` }),
      line.in_stock ? null : el("span", { class: "badge warn", text: "Out of stock" }),
    ),
    el("div", { class: "line-actions" }, quantity, remove),
    el("span", { class: "line-total", text: line.line_total }),
  );
}

function renderCart(cart) {
  $("cart-lines").replaceChildren(...cart.items.map(cartLine));
  const empty = cart.items.length === 0;
  $("cart-empty").hidden = !empty;
  $("cart-clear").hidden = empty;
  $("checkout").hidden = empty;
  $("cart-subtotal").textContent = money(cart.subtotal, cart.currency);
  $("cart-count").textContent = `(${plural(cart.item_count, "item")})`;
}

async function loadCart() {
  renderCart(await api("GET", "/cart"));
}

// ---------------------------------------------------------------- wishlist

async function addToWishlist(product) {
  if (!requireSignIn()) return;
  const added = await api("POST", "/wishlist/items", { body: { product_id: product.id } });
  notice(added.already_present ? "Already in your wishlist." : "Saved to your wishlist.");
  await loadWishlist();
}

async function productFor(id) {
  if (!state.products.has(id)) {
    try {
      state.products.set(id, await api("GET", `/products/${id}`, { bearer: false }));
    } catch (err) {
      if (err.status !== 404) throw err;
      state.products.set(id, null); // no longer for sale
    }
  }
  return state.products.get(id);
}

function wishlistItem(item, product) {
  const forSale = product ? product.skus.filter((s) => s.in_stock) : [];
  const select =
    forSale.length > 1
      ? el(
          "select",
          { class: "sku", "aria-label": `Option of ${item.product_name}` },
          forSale.map((s) => el("option", { value: s.id }, skuLabel(s))),
        )
      : null;
  const move = el("button", {
    type: "button",
    class: "small",
    text: "Move to cart",
    disabled: !item.available || !forSale.length,
    onclick: () =>
      run(move, async () => {
        const skuId = select ? Number(select.value) : forSale[0].id;
        const body = { sku_id: skuId, quantity: 1 };
        renderCart(await api("POST", `/wishlist/items/${item.id}/move-to-cart`, { body }));
        notice(`${item.product_name} moved to your cart.`);
        await loadWishlist();
      }),
  });
  const remove = el("button", {
    type: "button",
    class: "ghost small",
    text: "Remove",
    "aria-label": `Remove ${item.product_name} from wishlist`,
    onclick: () =>
      run(remove, async () => {
        await api("DELETE", `/wishlist/items/${item.id}`);
        await loadWishlist();
      }),
  });
  return el(
    "li",
    { class: "line", dataset: { itemId: item.id, productId: item.product_id } },
    el(
      "div",
      { class: "line-main" },
      el("strong", { text: item.product_name }),
      el("small", { class: "muted", text: `Saved ${when(item.added_at)}` }),
      item.available && forSale.length
        ? null
        : el("span", { class: "badge warn", text: "Unavailable" }),
    ),
    el("div", { class: "line-actions" }, select, move, remove),
  );
}

async function loadWishlist() {
  const wishlist = await api("GET", "/wishlist");
  const products = await Promise.all(wishlist.items.map((i) => productFor(i.product_id)));
  const rows = wishlist.items.map((item, n) => wishlistItem(item, products[n]));
  $("wishlist-items").replaceChildren(...rows);
  $("wishlist-empty").hidden = wishlist.items.length > 0;
}

// ---------------------------------------------------------------- checkout

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function checkoutBody(form) {
  const value = (name) => form.elements[name].value.trim() || null;
  const body = {
    shipping_address: {
      full_name: value("full_name"),
      phone: value("phone"),
      line1: value("line1"),
      line2: value("line2"),
      city: value("city"),
      region: value("region"),
      postal_code: value("postal_code"),
      country: (value("country") || "").toUpperCase(),
    },
  };
  const note = value("note");
  if (note) body.note = note;
  return body;
}

async function placeOrder(button) {
  const form = $("checkout-form");
  const body = checkoutBody(form);
  const text = JSON.stringify(body);
  // Retrying the same order after a lost answer reuses its key (the server replays the order);
  // a changed form is a new attempt with a new key.
  if (!state.checkout || state.checkout.body !== text) {
    state.checkout = { key: randomKey(), body: text };
  }
  const order = await run(button, async () => {
    try {
      const headers = { "Idempotency-Key": state.checkout.key };
      const placed = await api("POST", "/orders", { body, headers });
      state.checkout = null;
      return placed;
    } catch (err) {
      if (err.status !== 0) state.checkout = null;
      throw err;
    }
  });
  if (!order) return;
  form.elements.note.value = "";
  notice(`Order ${order.order_number} placed.`);
  await run(null, () => Promise.all([loadCart(), loadOrders(), loadProducts(true)]));
  showOrder(order);
}

// ---------------------------------------------------------------- orders

function statusBadge(status) {
  return el("span", { class: `badge status-${status}`, text: status });
}

async function loadOrders() {
  const orders = await api("GET", "/profile/orders?limit=20");
  $("order-list").replaceChildren(
    ...orders.items.map((o) => {
      const open = el("button", {
        type: "button",
        class: "ghost small",
        text: "Details",
        "aria-label": `Details of order ${o.order_number}`,
        onclick: () =>
          run(open, async () => showOrder(await api("GET", `/profile/orders/${o.id}`))),
      });
      return el(
        "li",
        { class: "order", dataset: { orderId: o.id } },
        el("strong", { class: "order-number", text: o.order_number }),
        statusBadge(o.status),
        el("span", {
          class: "muted",
          text: `${when(o.created_at)} · ${plural(o.item_count, "item")}`,
        }),
        el("span", { class: "amount", text: money(o.total_amount, o.currency) }),
        open,
      );
    }),
  );
  $("orders-empty").hidden = orders.items.length > 0;
  if (state.openOrder && !orders.items.some((o) => o.id === state.openOrder)) {
    $("order-detail").hidden = true;
  }
}

function addressLines(address) {
  return [
    address.full_name,
    address.line1,
    address.line2,
    [address.city, address.region, address.postal_code].filter(Boolean).join(", "),
    address.country,
    address.phone,
  ].filter(Boolean);
}

function orderItems(order) {
  const row = (cells, tag = "td") => el("tr", {}, cells.map((c) => el(tag, { text: c })));
  return el(
    "table",
    { class: "items" },
    el("thead", {}, row(["Item", "Qty", "Price", "Total"], "th")),
    el(
      "tbody",
      {},
      order.items.map((i) =>
        row([`${i.product_name} (${i.sku_code})`, i.quantity, i.unit_price, i.line_total]),
      ),
    ),
    el(
      "tfoot",
      {},
      el(
        "tr",
        {},
        el("th", { colspan: 3, text: "Total" }),
        el("th", { text: money(order.total_amount, order.currency) }),
      ),
    ),
  );
}

function orderHistory(order) {
  return el(
    "ol",
    { class: "history" },
    order.history.map((h) => el("li", {}, statusBadge(h.status), ` ${when(h.at)} by ${h.actor}`)),
  );
}

function showOrder(order) {
  state.openOrder = order.id;
  const cancel = CANCELLABLE.has(order.status)
    ? el("button", {
        type: "button",
        class: "ghost danger small",
        text: "Cancel order",
        onclick: () =>
          run(cancel, async () => {
            const cancelled = await api("POST", `/profile/orders/${order.id}/cancel`);
            notice(`Order ${cancelled.order_number} cancelled.`);
            showOrder(cancelled);
            await loadOrders();
          }),
      })
    : null;
  const close = el("button", {
    type: "button",
    class: "ghost small",
    text: "Close",
    onclick: () => {
      $("order-detail").hidden = true;
      state.openOrder = null;
    },
  });
  const address = addressLines(order.shipping_address || {});
  const parts = [
    el(
      "div",
      { class: "detail-head" },
      el("h3", { text: `Order ${order.order_number}` }),
      statusBadge(order.status),
      cancel,
      close,
    ),
    orderItems(order),
    el(
      "div",
      { class: "detail-cols" },
      el(
        "div",
        {},
        el("h4", { text: "Ship to" }),
        el("address", {}, address.map((line) => el("div", { text: line }))),
      ),
      el("div", {}, el("h4", { text: "History" }), orderHistory(order)),
    ),
    order.note ? el("p", { class: "muted", text: `Note: ${order.note}` }) : null,
  ];
  $("order-detail").replaceChildren(...parts.filter(Boolean));
  $("order-detail").hidden = false;
}

// ---------------------------------------------------------------- devices

async function loadDevices() {
  const sessions = await api("GET", "/auth/sessions");
  $("device-list").replaceChildren(
    ...sessions.items.map((s) => {
      const name = s.device_name || "Unnamed device";
      const signOut = el("button", {
        type: "button",
        class: "ghost small danger",
        text: "Sign this device out",
        "aria-label": `Sign ${name} out`,
        onclick: () =>
          run(signOut, async () => {
            if (s.current) {
              await logout("current");
              return;
            }
            await api("DELETE", `/auth/sessions/${encodeURIComponent(s.id)}`);
            notice(`${name} was signed out.`);
            await loadDevices();
          }),
      });
      const details = [s.auth_method, s.ip, `last seen ${when(s.last_seen_at)}`].filter(Boolean);
      return el(
        "li",
        { class: `device${s.current ? " current" : ""}`, dataset: { sessionId: s.id } },
        el(
          "div",
          { class: "line-main" },
          el(
            "strong",
            { text: name },
            s.current ? el("span", { class: "badge ok", text: "This device" }) : null,
          ),
          el("small", { class: "muted", text: details.join(" · ") }),
          s.user_agent
            ? el("small", { class: "muted ua", title: s.user_agent, text: s.user_agent })
            : null,
        ),
        signOut,
      );
    }),
  );
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("market").addEventListener("change", switchMarket);
  $("notice-close").addEventListener("click", () => ($("notice").hidden = true));
  $("phone-form").addEventListener("submit", (e) => {
    e.preventDefault();
    requestCode($("send-code"));
  });
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("verify"));
  });
  $("fill-code").addEventListener("click", (e) => fillFromOutbox(e.currentTarget));
  $("resend").addEventListener("click", (e) => requestCode(e.currentTarget));
  $("change-phone").addEventListener("click", showPhoneForm);
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.query = $("search").value.trim();
    run(null, () => loadProducts(true));
  });
  $("search").addEventListener("search", () => {
    if ($("search").value === "" && state.query) {
      state.query = "";
      run(null, () => loadProducts(true));
    }
  });
  $("more").addEventListener("click", (e) => run(e.currentTarget, () => loadProducts(false)));
  $("cart-clear").addEventListener("click", (e) =>
    run(e.currentTarget, async () => renderCart(await api("DELETE", "/cart"))),
  );
  $("checkout-form").addEventListener("submit", (e) => {
    e.preventDefault();
    placeOrder($("place-order"));
  });
  $("logout").addEventListener("click", (e) => run(e.currentTarget, () => logout("current")));
  $("logout-all").addEventListener("click", (e) => run(e.currentTarget, () => logout("all")));
  $("logout-others").addEventListener("click", (e) =>
    run(e.currentTarget, async () => {
      await logout("others");
      notice("Every other device was signed out.");
      await loadDevices();
    }),
  );
}

async function boot() {
  wire();
  chooseMarket(localStorage.getItem(MARKET_KEY));
  $("device-name").placeholder = defaultDeviceName();
  const catalog = run(null, () => loadProducts(true));
  // A reload keeps you signed in through the HttpOnly refresh cookie, if there is one.
  if (await refresh()) await enterSignedIn();
  else showSignedOut();
  await catalog;
  document.body.dataset.ready = "true";
}

boot();
