// Small DOM helpers shared by /app and /admin (docs/web-app.md).
// Every value from the API reaches the DOM through textContent / text nodes (el() below),
// never through innerHTML, so names, addresses or audit details cannot inject markup.

import { ApiError, auth } from "./api.js";
import { lang, problemText, t } from "./i18n.js";
import { browserRefusal } from "./webauthn.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
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

/** A labelled form field: <label>Text <input ...></label>, plus an optional hint line. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  let hintNode = null;
  if (hint) {
    hintNode = el("small", { class: "hint", id: `${id}-hint`, text: hint });
    input.setAttribute("aria-describedby", hintNode.id);
  }
  return el("div", { class: "field" }, el("label", { for: id, text: label }), input, hintNode);
}

export const money = (amount, currency) => `${amount} ${currency}`;
export const when = (iso) => new Date(iso).toLocaleString(lang() === "ru" ? "ru-RU" : "en-US");
export const day = (iso) => new Date(iso).toLocaleDateString(lang() === "ru" ? "ru-RU" : "en-US");

// ---------------------------------------------------------------- notices and errors

let noticeTimer = null;

export function notice(message, kind = "info") {
  const box = $("notice");
  $("notice-text").textContent = message;
  box.className = `notice ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== "error") noticeTimer = setTimeout(() => (box.hidden = true), 6000);
}

/** The sentence for an error: the browser's refusal, our words for the API's problem, or
 * "something went wrong" for a fault in the page itself. */
export function errorText(err) {
  const refusal = browserRefusal(err, t);
  if (refusal) return refusal;
  if (err instanceof ApiError) return problemText(err);
  console.error(err);
  return t("Something went wrong in this page. Reload and try again.");
}

export function showError(err) {
  if (err instanceof ApiError && err.status === 401 && !auth.signedIn) return; // the signed-out handler already said so
  notice(errorText(err), "error");
}

/** Runs an action with its button disabled; errors become a notice with the problem text. */
export async function run(button, action) {
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

/** A <form> whose submit runs `action(form)` with its submit button disabled. */
export function form(props, children, action) {
  const node = el("form", { novalidate: true, ...props }, children);
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    run(node.querySelector("button[type=submit]"), () => action(node));
  });
  return node;
}

export function button(text, onclick, props = {}) {
  const node = el("button", { type: "button", text, ...props });
  node.addEventListener("click", () => run(node, () => onclick(node)));
  return node;
}

/** A progress bar with a visible "x of y" sentence (screen readers read the sentence). */
export function progressBar(value, max, text, props = {}) {
  return el(
    "div",
    { class: "meter", ...props },
    el("progress", { value, max, "aria-hidden": "true" }),
    el("span", { class: "meter-text", text }),
  );
}

/** Save bytes the API returned as a download, named by the server when it says so. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function statusBadge(status) {
  const words = {
    pending: t("pending"),
    processing: t("processing"),
    shipped: t("shipped"),
    delivered: t("delivered"),
    cancelled: t("cancelled"),
  };
  return el("span", { class: `badge status-${status}`, text: words[status] || status });
}

/** Move keyboard focus to a section's heading after navigation, for screen readers too. */
export function focusHeading(root) {
  const heading = root.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}
