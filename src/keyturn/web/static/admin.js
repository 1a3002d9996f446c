// The /admin console for shop staff. Each section is one module under admin/ that registers
// itself with the router; this file wires the header, the sign-in and the warnings.

import { api, auth, logout, movedToPasskeyHost, refresh, watchSession } from "./api.js";
import { $, el, notice, run } from "./dom.js";
import { initialLang, lang, setLang, t } from "./i18n.js";
import { go, parse, register, show, start } from "./router.js";
import { signInCard } from "./signin.js";
// The console's sections, in menu order. A new page is one module and one line.
import "./admin/users.js";
import "./admin/orders.js";
import "./admin/catalog.js";
import "./admin/audit.js";
import "./admin/webhooks.js";

const MARKETS = ["us", "kg"];
const MARKET_KEY = "keyturn.market"; // only the chosen market: never a token

function chooseMarket(code) {
  const market = MARKETS.includes(code) ? code : "us";
  auth.setMarket(market);
  $("market").value = market;
  localStorage.setItem(MARKET_KEY, market);
}

/** Staff accounts should have a second factor: say so until this one has. */
async function renderWarning() {
  const box = $("mfa-warning");
  if (!auth.user) {
    box.hidden = true;
    return;
  }
  const status = await api("GET", "/profile/mfa").catch(() => null);
  box.hidden = !auth.user || status?.totp_enabled === true;
}

function renderHeader() {
  const user = auth.user;
  $("account").hidden = !user;
  // Signed in, the market is the sign-in's: named beside the person, not a (disabled) choice,
  // which keeps the top bar on one line at 1280 px.
  $("market").disabled = Boolean(user);
  $("market-choice").hidden = Boolean(user);
  if (user) {
    const name = user.email || user.phone_number || `#${user.id}`;
    $("who").textContent = name;
    $("who").title = name; // a long one is cut short on screen
    $("who-market").textContent = auth.market.toUpperCase();
  }
  renderWarning();
}

async function signedIn() {
  if (auth.user.role !== "admin") {
    await logout("current");
    notice(t("This account is not an administrator."), "error");
    return;
  }
  renderHeader();
  watchSession();
  const next = parse(location.hash).id;
  if (["signin", ""].includes(next)) go("users");
  else await show();
}

register({
  id: "signin",
  label: "Sign in",
  signedIn: false,
  mount: (root) =>
    root.append(
      el(
        "div",
        { class: "narrow" },
        signInCard({ title: t("Staff sign-in"), allowRegister: false, market: () => auth.market, onSignedIn: signedIn }),
      ),
    ),
});

auth.onSignedOut((reason) => {
  renderHeader();
  notice(reason === "expired" ? t("Your session has ended. Sign in again.") : t("Signed out."), reason === "expired" ? "error" : "info");
  go("signin");
});

async function boot() {
  chooseMarket(localStorage.getItem(MARKET_KEY));
  if (await movedToPasskeyHost()) return; // one host for /app and /admin: see api.js
  $("market").addEventListener("change", () => chooseMarket($("market").value));
  $("lang").addEventListener("change", () => {
    setLang($("lang").value, { remember: true });
    show({ focus: false });
  });
  $("notice-close").addEventListener("click", () => ($("notice").hidden = true));
  $("logout").addEventListener("click", (e) => run(e.currentTarget, () => logout("current")));
  setLang(initialLang(auth.market));
  $("lang").value = lang();
  await start(() => (auth.signedIn ? "users" : "signin"));
  if (await refresh()) {
    if (auth.user.role === "admin") watchSession();
    else await logout("current");
  }
  renderHeader();
  if (!location.hash || location.hash === "#") history.replaceState(null, "", "#/users");
  await show({ focus: false });
  document.body.dataset.ready = "true";
}

boot();
