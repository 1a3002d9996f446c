// The /app page: a customer's shop and account. Each section is one module under app/
// that registers itself with the router; this file wires the header and starts the page.

import { auth, logout, movedToPasskeyHost, refresh, watchSession } from "./api.js";
import { $, notice, run } from "./dom.js";
import { initialLang, lang, LANGUAGES, setLang, t } from "./i18n.js";
import { go, parse, show, start } from "./router.js";
import { registerSignIn } from "./app/signin.js";
// The page's sections, in menu order. A new page is one module and one line here.
import "./app/shop.js";
import "./app/orders.js";
import "./app/files.js";
import "./app/account.js";
import "./app/security.js";
import "./app/passkeys.js";
import "./app/linked.js";
import "./app/devices.js";
import "./app/privacy.js";

const MARKETS = ["us", "kg"];
const MARKET_KEY = "keyturn.market"; // only the chosen market: never a token

function chooseMarket(code) {
  const market = MARKETS.includes(code) ? code : "us";
  auth.setMarket(market);
  $("market").value = market;
  localStorage.setItem(MARKET_KEY, market);
}

function renderHeader() {
  const user = auth.user;
  $("account").hidden = !user;
  $("market").disabled = Boolean(user);
  $("market-note").hidden = !user;
  if (user) $("who").textContent = user.full_name || user.email || user.phone_number || `#${user.id}`;
}

async function signedIn() {
  renderHeader();
  watchSession();
  if (auth.user.language && auth.user.language.slice(0, 2) in LANGUAGES && !localStorage.getItem("keyturn.lang")) {
    setLang(auth.user.language.slice(0, 2));
  }
  const next = parse(location.hash).id;
  if (["signin", "reset", ""].includes(next)) go("shop");
  else await show();
}

auth.onSignedOut((reason) => {
  renderHeader();
  if (reason === "expired") notice(t("Your session has ended. Sign in again."), "error");
  else if (reason === "deleted") notice(t("Your account was deleted. Your orders are kept for accounting, without your name or contacts."));
  else notice(t("Signed out."));
  go("signin");
});

function wire() {
  $("market").addEventListener("change", () => {
    chooseMarket($("market").value);
    show({ focus: false });
  });
  $("lang").addEventListener("change", () => {
    setLang($("lang").value, { remember: true });
    show({ focus: false });
  });
  $("notice-close").addEventListener("click", () => ($("notice").hidden = true));
  $("logout").addEventListener("click", (e) => run(e.currentTarget, () => logout("current")));
  $("logout-all").addEventListener("click", (e) => run(e.currentTarget, () => logout("all")));
}

async function boot() {
  const route = parse(location.hash);
  const linkMarket = route.id === "reset" ? route.query.get("market") : null;
  chooseMarket(linkMarket || localStorage.getItem(MARKET_KEY));
  if (await movedToPasskeyHost()) return;
  wire();
  setLang(initialLang(auth.market));
  $("lang").value = lang();
  registerSignIn(signedIn);
  await start(() => (auth.signedIn ? "shop" : "signin"));
  // A reload keeps you signed in through the HttpOnly refresh cookie, if there is one.
  if (!linkMarket && (await refresh())) {
    renderHeader();
    watchSession();
  }
  if (!location.hash || location.hash === "#") history.replaceState(null, "", "#/shop");
  await show({ focus: false });
  document.body.dataset.ready = "true";
}

boot();
