// /app's sign-in section and the reset form the emailed link opens (#reset?token=…).

import { auth, logout } from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { go, register } from "../router.js";
import { resetForm, signInCard } from "../signin.js";

export function registerSignIn(onSignedIn) {
  register({
    id: "signin",
    label: "Sign in",
    nav: true,
    order: 60,
    signedIn: false,
    mount: (root, route) =>
      root.append(
        el(
          "div",
          { class: "narrow" },
          signInCard({
            title: t("Sign in or create an account"),
            allowRegister: true,
            passkeys: true,
            market: () => auth.market,
            onSignedIn,
            start: route.params[0],
          }),
        ),
      ),
  });
  register({
    id: "reset",
    label: "Choose a new password",
    mount: (root, route) =>
      root.append(
        el(
          "section",
          { class: "card narrow", "aria-labelledby": "reset-title" },
          el("h2", { id: "reset-title", text: t("Choose a new password") }),
          resetForm(route.query.get("token") || "", () =>
            auth.signedIn ? logout("current") : go("signin"),
          ),
        ),
      ),
  });
}
