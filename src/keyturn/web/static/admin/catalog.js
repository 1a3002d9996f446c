// Staff: products and SKUs with price and stock edits; import a JSON or CSV file with progress.

import { api, upload } from "../api.js";
import { $, button, el, form, notice, progressBar } from "../dom.js";
import { problemText, t } from "../i18n.js";
import { register } from "../router.js";

function skuRow(sku) {
  const price = el("input", { name: "price", inputmode: "decimal", value: sku.price, "aria-label": t("Price of {code}", { code: sku.code }), maxlength: 14 });
  const stock = el("input", { name: "stock", type: "number", min: 0, value: sku.stock, "aria-label": t("Stock of {code}", { code: sku.code }) });
  const active = el("input", { type: "checkbox", name: "is_active", checked: sku.is_active, "aria-label": t("{code} for sale", { code: sku.code }) });
  return el(
    "tr",
    { class: "sku-row", dataset: { skuId: sku.id, code: sku.code } },
    el("th", { scope: "row", text: sku.code }),
    el("td", { text: Object.values(sku.attributes || {}).join(" / ") || "—" }),
    el("td", {}, price, ` ${sku.currency}`),
    el("td", {}, stock),
    el("td", {}, active),
    el(
      "td",
      {},
      button(t("Save"), async () => {
        const body = { price: price.value.trim(), stock: Number(stock.value), is_active: active.checked };
        const saved = await api("PATCH", `/admin/skus/${sku.id}`, { body });
        price.value = saved.price;
        stock.value = saved.stock;
        notice(t("{code} saved: {price} {currency}, {stock} in stock.", saved));
      }, { class: "small", "aria-label": t("Save {code}", { code: sku.code }) }),
    ),
  );
}

function productCard(p) {
  return el(
    "article",
    { class: "card product-admin", dataset: { productId: p.id } },
    el("h3", {}, p.name, p.is_active ? null : el("span", { class: "badge warn", text: t("hidden") })),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "data" },
        el("caption", { class: "visually-hidden", text: t("SKUs of {name}", { name: p.name }) }),
        el("thead", {}, el("tr", {}, [t("Code"), t("Options"), t("Price"), t("Stock"), t("For sale"), ""].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, p.skus.map(skuRow)),
      ),
    ),
  );
}

async function loadProducts(q) {
  const params = new URLSearchParams({ limit: "50" });
  if (q) params.set("q", q);
  const page = await api("GET", `/admin/products?${params}`);
  $("admin-products").replaceChildren(...page.items.map(productCard));
  $("products-none").hidden = page.items.length > 0;
}

function importer() {
  const picker = el("input", { type: "file", id: "catalog-file", name: "file", accept: ".json,.csv,application/json,text/csv" });
  const bar = progressBar(0, 1, "", { id: "import-progress", hidden: true });
  const errors = el("ul", { id: "import-errors", class: "feedback", hidden: true });
  const say = (text, value, max) => {
    bar.hidden = false;
    bar.querySelector(".meter-text").textContent = text;
    const p = bar.querySelector("progress");
    p.max = max;
    p.value = value;
  };
  const send = async (dryRun) => {
    errors.hidden = true;
    const file = picker.files[0];
    if (!file) {
      notice(t("Choose a .json or .csv file first."), "error");
      picker.focus();
      return;
    }
    const type = /\.csv$/i.test(file.name) || file.type === "text/csv" ? "text/csv" : "application/json";
    say(t("Sending {name}…", { name: file.name }), 0, 3);
    try {
      const result = await upload(`/admin/catalog/import${dryRun ? "?dry_run=true" : ""}`, file, {
        headers: { "Content-Type": type },
        onProgress: (sent, total) => {
          const step = sent < total ? sent / total : 2; // then the server checks and writes
          say(sent < total ? t("Sending {name}: {percent}%", { name: file.name, percent: Math.round((100 * sent) / total) }) : t("Checking and importing…"), step, 3);
        },
      });
      const summary = t("{products} products: {created} new, {updated} updated; {skus_created} new SKUs, {skus_updated} updated.", {
        products: result.products,
        created: result.products_created,
        updated: result.products_updated,
        skus_created: result.skus_created,
        skus_updated: result.skus_updated,
      });
      say(dryRun ? t("The file is valid. {summary}", { summary }) : t("Imported. {summary}", { summary }), 3, 3);
      if (!dryRun) await loadProducts("");
    } catch (err) {
      say(problemText(err), 0, 3);
      const lines = err.problem?.errors || [];
      if (lines.length) {
        errors.replaceChildren(...lines.map((line) => el("li", { text: line })));
        errors.hidden = false;
      }
    }
  };
  return el(
    "section",
    { class: "card", id: "catalog-import", "aria-labelledby": "import-title" },
    el("h2", { id: "import-title", text: t("Import a catalog") }),
    el("p", { class: "muted", text: t("A JSON or CSV file, as keyturn import-catalog takes. Products are matched by SKU code; a file with any mistake imports nothing.") }),
    el("div", { class: "field" }, el("label", { for: "catalog-file", text: t("Catalog file") }), picker),
    el("div", { class: "row" }, button(t("Check only"), () => send(true), { id: "check-catalog", class: "ghost" }), button(t("Import"), () => send(false), { id: "import-catalog", class: "primary" })),
    el("div", { "aria-live": "polite" }, bar),
    errors,
  );
}

async function mount(root) {
  const search = form({ class: "search", role: "search" }, [
    el("input", { type: "search", name: "q", maxlength: 100, "aria-label": t("Search products"), placeholder: t("Search products") }),
    el("button", { type: "submit", text: t("Search") }),
  ], (f) => loadProducts(f.elements.q.value.trim()));
  root.append(
    importer(),
    el(
      "section",
      { class: "stack", "aria-labelledby": "catalog-title" },
      el("div", { class: "catalog-head" }, el("h2", { id: "catalog-title", text: t("Products") }), search),
      el("div", { id: "admin-products", class: "stack" }),
      el("p", { id: "products-none", class: "muted", hidden: true, text: t("No products match.") }),
    ),
  );
  await loadProducts("");
}

register({ id: "catalog", label: "Catalog", nav: true, order: 30, signedIn: true, mount });
