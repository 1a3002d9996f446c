// The shop: catalog, cart, wishlist and checkout (to a saved address or a new one).

import { api, auth } from "../api.js";
import { $, el, field, form, money, notice, run, when } from "../dom.js";
import { t, tn } from "../i18n.js";
import { go, register } from "../router.js";
import { addressText, loadAddresses } from "./account.js";

const PAGE_SIZE = 12;
const COUNTRY = { us: "US", kg: "KG" };
const state = {
  query: "",
  nextCursor: null,
  products: new Map(), // id → product, also used by the wishlist to offer SKUs
  checkout: null, // {key, body}: the Idempotency-Key is reused only to retry the same order
};

function requireSignIn() {
  if (auth.signedIn) return true;
  notice(t("Sign in first: your cart and wishlist belong to your account."), "error");
  go("signin");
  return false;
}

// ---------------------------------------------------------------- catalog

/** "M", or "M — 14.99 USD" when the product's options differ in price. */
function skuLabel(sku, withPrice = true) {
  const attrs = Object.values(sku.attributes || {}).join(" / ") || t("Standard");
  const price = withPrice ? ` — ${money(sku.price, sku.currency)}` : "";
  return `${attrs}${price}${sku.in_stock ? "" : ` (${t("out of stock")})`}`;
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
    { class: "sku", "aria-label": t("Option of {name}", { name: product.name }) },
    product.skus.map((s) => el("option", { value: s.id, disabled: !s.in_stock }, skuLabel(s, pricesDiffer))),
  );
  if (forSale.length) select.value = String(forSale[0].id);
  const price = el("span", { class: "price" });
  const showPrice = () => {
    const sku = product.skus.find((s) => String(s.id) === select.value);
    price.textContent = sku ? money(sku.price, sku.currency) : "";
  };
  select.addEventListener("change", showPrice);
  showPrice();
  const quantity = el("input", { class: "qty", type: "number", min: 1, max: 99, value: 1, "aria-label": t("Quantity of {name}", { name: product.name }) });
  const add = el("button", {
    type: "button",
    class: "primary",
    disabled: !forSale.length,
    text: forSale.length ? t("Add to cart") : t("Out of stock"),
    onclick: () => run(add, () => addToCart(Number(select.value), Number(quantity.value))),
  });
  const save = el("button", {
    type: "button",
    class: "ghost heart",
    title: t("Save to wishlist"),
    "aria-label": t("Save {name} to wishlist", { name: product.name }),
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
  if (!list.isConnected) return; // the person moved on to another section
  for (const product of page.items) state.products.set(product.id, product);
  list.append(...page.items.map(productCard));
  state.nextCursor = page.next_cursor;
  $("more").hidden = !page.next_cursor;
  $("products-empty").hidden = list.children.length > 0;
}

// ---------------------------------------------------------------- cart

// Cart calls in the order asked: an answer arriving after a newer one was shown is stale
// (a slow GET /cart of the page's first load must not hide what "Add to cart" just did).
let cartAsked = 0;
let cartShown = 0;

/** A cart call whose answer (the whole cart) is shown, unless a newer answer already is. */
async function cartCall(method, path, body) {
  const mine = ++cartAsked;
  const cart = await api(method, path, body === undefined ? {} : { body });
  if (mine < cartShown) return;
  cartShown = mine;
  renderCart(cart);
}

async function addToCart(skuId, quantity) {
  if (!requireSignIn()) return;
  await cartCall("POST", "/cart/items", { sku_id: skuId, quantity });
  notice(t("Added to your cart."));
}

function cartLine(line) {
  const quantity = el("input", { class: "qty", type: "number", min: 1, max: 99, value: line.quantity, "aria-label": t("Quantity of {name}", { name: line.product_name }) });
  quantity.addEventListener("change", () =>
    run(quantity, async () => {
      try {
        await cartCall("PUT", `/cart/items/${line.id}`, { quantity: Number(quantity.value) });
      } catch (err) {
        quantity.value = line.quantity;
        throw err;
      }
    }),
  );
  const remove = el("button", {
    type: "button",
    class: "ghost small",
    text: t("Remove"),
    "aria-label": t("Remove {name}", { name: line.product_name }),
    onclick: () => run(remove, () => cartCall("DELETE", `/cart/items/${line.id}`)),
  });
  return el(
    "li",
    { class: "line", dataset: { lineId: line.id, skuId: line.sku_id } },
    el(
      "div",
      { class: "line-main" },
      el("strong", { text: line.product_name }),
      el("small", { class: "muted", text: `${line.sku_code} · ${t("{price} each", { price: line.unit_price })}` }),
      line.in_stock ? null : el("span", { class: "badge warn", text: t("Out of stock") }),
    ),
    el("div", { class: "line-actions" }, quantity, remove),
    el("span", { class: "line-total", text: line.line_total }),
  );
}

function renderCart(cart) {
  if (!$("cart-lines")) return;
  $("cart-lines").replaceChildren(...cart.items.map(cartLine));
  const empty = cart.items.length === 0;
  $("cart-empty").hidden = !empty;
  $("cart-clear").hidden = empty;
  $("checkout").hidden = empty;
  $("cart-subtotal").textContent = money(cart.subtotal, cart.currency);
  $("cart-count").textContent = `(${tn(cart.item_count, "{n} item", "{n} items")})`;
}

// ---------------------------------------------------------------- wishlist

async function addToWishlist(product) {
  if (!requireSignIn()) return;
  const added = await api("POST", "/wishlist/items", { body: { product_id: product.id } });
  notice(added.already_present ? t("Already in your wishlist.") : t("Saved to your wishlist."));
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
      ? el("select", { class: "sku", "aria-label": t("Option of {name}", { name: item.product_name }) }, forSale.map((s) => el("option", { value: s.id }, skuLabel(s))))
      : null;
  const move = el("button", {
    type: "button",
    class: "small",
    text: t("Move to cart"),
    disabled: !item.available || !forSale.length,
    onclick: () =>
      run(move, async () => {
        const skuId = select ? Number(select.value) : forSale[0].id;
        await cartCall("POST", `/wishlist/items/${item.id}/move-to-cart`, { sku_id: skuId, quantity: 1 });
        notice(t("{name} moved to your cart.", { name: item.product_name }));
        await loadWishlist();
      }),
  });
  const remove = el("button", {
    type: "button",
    class: "ghost small",
    text: t("Remove"),
    "aria-label": t("Remove {name} from wishlist", { name: item.product_name }),
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
      el("small", { class: "muted", text: t("Saved {when}", { when: when(item.added_at) }) }),
      item.available && forSale.length ? null : el("span", { class: "badge warn", text: t("Unavailable") }),
    ),
    el("div", { class: "line-actions" }, select, move, remove),
  );
}

async function loadWishlist() {
  const wishlist = await api("GET", "/wishlist");
  const products = await Promise.all(wishlist.items.map((i) => productFor(i.product_id)));
  if (!$("wishlist-items")) return;
  $("wishlist-items").replaceChildren(...wishlist.items.map((item, n) => wishlistItem(item, products[n])));
  $("wishlist-empty").hidden = wishlist.items.length > 0;
}

// ---------------------------------------------------------------- checkout

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const NEW = "new";

function newAddressFields() {
  const user = auth.user || {};
  const input = (name, props = {}) => el("input", { name, class: "input", ...props });
  return el(
    "fieldset",
    { id: "new-address", class: "grid-form" },
    el("legend", { text: t("Ship to a new address") }),
    field(t("Full name"), input("full_name", { autocomplete: "name", maxlength: 200, value: user.full_name || "" })),
    field(t("Phone"), input("phone", { type: "tel", autocomplete: "tel", maxlength: 32, value: user.phone_number || "" })),
    field(t("Address"), input("line1", { autocomplete: "address-line1", maxlength: 200 })),
    field(t("Apartment, suite"), input("line2", { autocomplete: "address-line2", maxlength: 200 })),
    field(t("City"), input("city", { autocomplete: "address-level2", maxlength: 100 })),
    field(t("Region"), input("region", { autocomplete: "address-level1", maxlength: 100 })),
    field(t("Postal code"), input("postal_code", { autocomplete: "postal-code", maxlength: 12 })),
    field(t("Country"), input("country", { autocomplete: "country", minlength: 2, maxlength: 2, value: COUNTRY[auth.market] || "" }), t("Two letters, e.g. US")),
  );
}

function checkoutBody(f) {
  const value = (name) => (f.elements[name]?.value || "").trim() || null;
  const chosen = f.elements.ship_to ? f.elements.ship_to.value : NEW;
  const body =
    chosen && chosen !== NEW
      ? { address_id: Number(chosen) }
      : {
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

async function placeOrder(f) {
  const body = checkoutBody(f);
  const text = JSON.stringify(body);
  // Retrying the same order after a lost answer reuses its key (the server replays the order);
  // a changed form is a new attempt with a new key.
  if (!state.checkout || state.checkout.body !== text) state.checkout = { key: randomKey(), body: text };
  let order;
  try {
    order = await api("POST", "/orders", { body, headers: { "Idempotency-Key": state.checkout.key } });
    state.checkout = null;
  } catch (err) {
    if (err.status !== 0) state.checkout = null;
    throw err;
  }
  notice(t("Order {number} placed.", { number: order.order_number }));
  go("orders", String(order.id));
}

async function renderCheckout() {
  const addresses = await loadAddresses();
  const fresh = newAddressFields();
  const options = addresses.map((a) =>
    el(
      "label",
      { class: "choice" },
      el("input", { type: "radio", name: "ship_to", value: a.id, checked: a.is_default }),
      el("span", {}, el("strong", { text: a.label || a.full_name }), ` — ${addressText(a)}`),
    ),
  );
  const other = el("label", { class: "choice" }, el("input", { type: "radio", name: "ship_to", value: NEW, checked: !addresses.length }), t("Another address"));
  const f = form(
    { id: "checkout-form", class: "stack" },
    [
      addresses.length ? el("fieldset", { class: "stack", id: "ship-to" }, el("legend", { text: t("Ship to") }), options, other) : null,
      fresh,
      field(t("Note"), el("textarea", { name: "note", rows: 2, maxlength: 1000, class: "input" })),
      el("button", { type: "submit", id: "place-order", class: "primary", text: t("Place order") }),
    ],
    placeOrder,
  );
  const sync = () => (fresh.hidden = addresses.length > 0 && f.elements.ship_to.value !== NEW);
  f.addEventListener("change", sync);
  sync();
  $("checkout-body").replaceChildren(f);
}

// ---------------------------------------------------------------- section

function mount(root) {
  const signedIn = auth.signedIn;
  const search = form({ class: "search", role: "search" }, [
    el("input", { id: "search", type: "search", placeholder: t("Search products"), maxlength: 100, "aria-label": t("Search products"), value: state.query }),
    el("button", { type: "submit", text: t("Search") }),
  ], async (f) => {
    state.query = f.elements[0].value.trim();
    await loadProducts(true);
  });
  const catalog = el(
    "section",
    { id: "catalog", class: "card catalog", "aria-labelledby": "catalog-title" },
    el("div", { class: "catalog-head" }, el("h2", { id: "catalog-title", text: t("Catalog") }), search),
    el("ul", { id: "products", class: "products" }),
    el("p", { id: "products-empty", class: "muted", hidden: true, text: t("No products match.") }),
    el("button", { id: "more", type: "button", class: "more", hidden: true, text: t("Show more"), onclick: (e) => run(e.target, () => loadProducts(false)) }),
  );
  const side = el(
    "div",
    { class: "side" },
    el(
      "section",
      { id: "cart", class: "card", "aria-labelledby": "cart-title", hidden: !signedIn },
      el("h2", { id: "cart-title", text: t("Cart") }),
      el("ul", { id: "cart-lines", class: "lines" }),
      el("p", { id: "cart-empty", class: "muted", text: t("Your cart is empty.") }),
      el("div", { class: "total" }, el("span", {}, t("Subtotal"), " ", el("small", { id: "cart-count" })), el("strong", { id: "cart-subtotal" })),
      el("button", { id: "cart-clear", type: "button", class: "ghost danger", text: t("Empty cart"), onclick: (e) => run(e.target, () => cartCall("DELETE", "/cart")) }),
    ),
    el("section", { id: "checkout", class: "card", "aria-labelledby": "checkout-title", hidden: true }, el("h2", { id: "checkout-title", text: t("Check out") }), el("div", { id: "checkout-body" })),
    el(
      "section",
      { id: "wishlist", class: "card", "aria-labelledby": "wishlist-title", hidden: !signedIn },
      el("h2", { id: "wishlist-title", text: t("Wishlist") }),
      el("ul", { id: "wishlist-items", class: "lines" }),
      el("p", { id: "wishlist-empty", class: "muted", text: t("Nothing saved yet: use ♡ on a product.") }),
    ),
  );
  root.append(el("h1", { class: "visually-hidden", text: t("Shop") }), el("div", { class: "layout" }, side, catalog));
  const loads = [loadProducts(true)];
  if (signedIn) {
    loads.push(cartCall("GET", "/cart"), loadWishlist(), renderCheckout());
  }
  return Promise.all(loads);
}

register({ id: "shop", label: "Shop", nav: true, order: 10, mount });
