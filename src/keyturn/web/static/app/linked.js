// Your Apple and Google accounts linked to this one (docs/social-sign-in.md): see them,
// unlink one (a recent sign-in wanted, stepup.js; never the last way in). Linking needs the
// provider's id_token from its SDK, which the shop's iOS and Android apps have. Shown only
// when this server has Apple or Google sign-in configured (`oauth_providers` of `GET /`).

import { api, serviceIndex } from "../api.js";
import { $, button, el, notice, when } from "../dom.js";
import { t } from "../i18n.js";
import { register } from "../router.js";
import { withStepUp } from "../stepup.js";

const PROVIDERS = { apple: "Apple", google: "Google" }; // brand names: the same in every language

function identityLine(identity) {
  const name = PROVIDERS[identity.provider] || identity.provider;
  const details = [
    identity.private_relay ? t("Hide My Email address") : identity.email,
    t("linked {when}", { when: when(identity.created_at) }),
    identity.last_used_at ? t("last used {when}", { when: when(identity.last_used_at) }) : t("never used"),
  ].filter(Boolean);
  return el(
    "li",
    { class: "device", dataset: { provider: identity.provider } },
    el("div", { class: "line-main" }, el("strong", { text: name }), el("small", { class: "muted", text: details.join(" · ") })),
    button(
      t("Unlink"),
      async () => {
        const unlinked = await withStepUp(() => api("DELETE", `/profile/identities/${identity.provider}`));
        if (unlinked === undefined) return;
        notice(t("Your {provider} account was unlinked.", { provider: name }));
        await renderLinked();
      },
      { class: "ghost small danger", "aria-label": t("Unlink {provider}", { provider: name }) },
    ),
  );
}

async function renderLinked() {
  const { items } = await api("GET", "/profile/identities");
  $("linked-list").replaceChildren(...items.map(identityLine));
  $("no-linked").hidden = items.length > 0;
}

async function mount(root) {
  root.append(
    el(
      "section",
      { id: "linked", class: "card", "aria-labelledby": "linked-title" },
      el("h2", { id: "linked-title", text: t("Linked accounts") }),
      el("p", { class: "muted", text: t("Apple and Google accounts that sign you in to this account.") }),
      el("p", { id: "no-linked", class: "muted", hidden: true, text: t("No Apple or Google account is linked.") }),
      el("ul", { id: "linked-list", class: "devices" }),
    ),
  );
  await renderLinked();
}

let configured = [];

async function prepare() {
  configured = (await serviceIndex().catch(() => null))?.oauth_providers ?? [];
}

register({
  id: "linked",
  label: "Linked accounts",
  nav: true,
  order: 46,
  signedIn: true,
  prepare,
  offered: () => configured.length > 0,
  mount,
});
