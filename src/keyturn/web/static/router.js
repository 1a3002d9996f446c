// The page's sections and the #/route that shows one (docs/web-app.md).
//
// Every section is one module that registers itself here: {id, label, nav, signedIn,
// mount(root, params)}. A page that lands later adds a module and one line in the page's
// section list, as security, passkeys, linked accounts, your data and webhooks did; nothing
// else changes.

import { auth } from "./api.js";
import { $, el, focusHeading, showError } from "./dom.js";
import { t } from "./i18n.js";

const sections = new Map();
let fallback = null;
let current = { id: null, params: [], query: new URLSearchParams() };
let shown = 0; // counts show() calls: a mount overtaken by a newer one is no longer on screen

/**
 * section: {id, label, mount(root, route), nav?: true, order?: number (menu position),
 * signedIn?: true (only when signed in) | false (only when signed out) | undefined (always),
 * prepare?: async () => void (run once by start(), before the first show),
 * offered?: () => boolean (false: this server does not offer it; neither menu nor route)}
 */
export function register(section) {
  sections.set(section.id, section);
}

export function parse(hash) {
  const raw = hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?", 2);
  const [id = "", ...params] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { id, params, query: new URLSearchParams(query) };
}

function allowed(section) {
  if (!section) return false;
  if (section.offered && !section.offered()) return false;
  if (section.signedIn === true) return auth.signedIn;
  if (section.signedIn === false) return !auth.signedIn;
  return true;
}

export function go(id, ...params) {
  const hash = `#/${[id, ...params].map(encodeURIComponent).join("/")}`;
  if (location.hash === hash) show();
  else location.hash = hash;
}

export function route() {
  return current;
}

function renderNav() {
  const nav = $("nav");
  nav.replaceChildren(
    ...[...sections.values()]
      .filter((s) => s.nav && allowed(s))
      .sort((a, b) => (a.order ?? 100) - (b.order ?? 100))
      .map((s) =>
        el(
          "li",
          {},
          el("a", {
            href: `#/${s.id}`,
            text: t(s.label),
            "aria-current": s.id === current.id ? "page" : false,
            dataset: { section: s.id },
          }),
        ),
      ),
  );
}

/** Show the section the address names (or the fallback when it is not allowed now). */
export async function show({ focus = true } = {}) {
  let next = parse(location.hash);
  let section = sections.get(next.id);
  if (!allowed(section)) {
    const id = fallback();
    section = sections.get(id);
    next = { id, params: [], query: new URLSearchParams() };
  }
  current = next;
  const mine = ++shown;
  renderNav();
  const root = $("main");
  root.replaceChildren();
  root.dataset.section = section.id;
  document.title = `${t(section.label)} · keyturn`;
  try {
    await section.mount(root, next);
  } catch (err) {
    // A section left before it finished loading fails to find its elements: nobody sees it.
    if (mine === shown) showError(err);
  }
  if (focus && mine === shown) focusHeading(root);
}

/** Start routing; `chooseFallback()` names the section to show when the address names none.
 * Resolves once every section's `prepare()` has finished. */
export async function start(chooseFallback) {
  fallback = chooseFallback;
  window.addEventListener("hashchange", () => show());
  await Promise.all([...sections.values()].map((s) => s.prepare?.()));
}
