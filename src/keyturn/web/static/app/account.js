// Your account: profile (name, picture, language), saved addresses, password.

import { api, auth } from "../api.js";
import { $, el, field, form, notice, run } from "../dom.js";
import { LANGUAGES, setLang, t } from "../i18n.js";
import { register, show } from "../router.js";
import { newPasswordField, withPasswordFeedback } from "../signin.js";
import { withStepUp } from "../stepup.js";

export async function loadAddresses() {
  return (await api("GET", "/profile/addresses")).items;
}

export function addressText(a) {
  return [a.line1, a.line2, [a.city, a.region, a.postal_code].filter(Boolean).join(", "), a.country].filter(Boolean).join(", ");
}

const input = (name, props = {}) => el("input", { name, class: "input", ...props });

// ---------------------------------------------------------------- profile

function profileForm(user) {
  const language = el(
    "select",
    { name: "language", class: "input" },
    Object.entries(LANGUAGES).map(([code, name]) => el("option", { value: code, selected: (user.language || "").startsWith(code) }, name)),
  );
  return form(
    { id: "profile-form", class: "stack", "aria-labelledby": "profile-title" },
    [
      field(t("Name"), input("full_name", { id: "profile-name", autocomplete: "name", maxlength: 200, value: user.full_name || "" })),
      field(t("Picture (an https:// image URL)"), input("profile_image_url", { id: "profile-image", type: "url", maxlength: 2048, value: user.profile_image_url || "" })),
      field(t("Language"), language),
      el("button", { type: "submit", class: "primary", id: "save-profile", text: t("Save profile") }),
    ],
    async (f) => {
      const body = { language: f.elements.language.value };
      const name = f.elements.full_name.value.trim();
      if (name) body.full_name = name;
      body.profile_image_url = f.elements.profile_image_url.value.trim() || null;
      const saved = await api("PATCH", "/profile", { body });
      auth.setUser(saved);
      setLang(saved.language, { remember: true });
      notice(t("Profile saved."));
      await show({ focus: false });
    },
  );
}

// ---------------------------------------------------------------- addresses

const ADDRESS_FIELDS = [
  ["label", "Label (e.g. Home)", { maxlength: 50 }],
  ["full_name", "Full name", { autocomplete: "name", maxlength: 200, required: true }],
  ["phone", "Phone", { type: "tel", autocomplete: "tel", maxlength: 32, required: true }],
  ["line1", "Address", { autocomplete: "address-line1", maxlength: 200, required: true }],
  ["line2", "Apartment, suite", { autocomplete: "address-line2", maxlength: 200 }],
  ["city", "City", { autocomplete: "address-level2", maxlength: 100, required: true }],
  ["region", "Region", { autocomplete: "address-level1", maxlength: 100 }],
  ["postal_code", "Postal code", { autocomplete: "postal-code", maxlength: 12 }],
  ["country", "Country (two letters, e.g. US)", { autocomplete: "country", minlength: 2, maxlength: 2, required: true }],
];

function addressForm(address, done) {
  const user = auth.user || {};
  const start = address || { full_name: user.full_name || "", phone: user.phone_number || "", country: { us: "US", kg: "KG" }[auth.market] };
  return form(
    { id: address ? `address-form-${address.id}` : "address-form", class: "grid-form", "aria-label": address ? t("Edit address") : t("Add an address") },
    [
      ...ADDRESS_FIELDS.map(([name, label, props]) => field(t(label), input(name, { ...props, value: start[name] || "" }))),
      el("label", { class: "choice wide" }, el("input", { type: "checkbox", name: "is_default", checked: address ? address.is_default : false }), t("Use as my default address")),
      el("div", { class: "row wide" }, el("button", { type: "submit", class: "primary", text: address ? t("Save address") : t("Add address") }), el("button", { type: "button", class: "ghost", text: t("Cancel"), onclick: done })),
    ],
    async (f) => {
      const body = {};
      for (const [name] of ADDRESS_FIELDS) {
        const value = f.elements[name].value.trim();
        if (value) body[name] = name === "country" ? value.toUpperCase() : value;
        else if (address) body[name] = null;
      }
      body.is_default = f.elements.is_default.checked;
      if (address) {
        for (const name of ["full_name", "phone", "line1", "city", "country"]) if (body[name] === null) delete body[name];
        await api("PATCH", `/profile/addresses/${address.id}`, { body });
        notice(t("Address saved."));
      } else {
        await api("POST", "/profile/addresses", { body });
        notice(t("Address added."));
      }
      done();
    },
  );
}

async function renderAddresses() {
  const box = $("addresses-body");
  const addresses = await loadAddresses();
  const list = el(
    "ul",
    { id: "address-list", class: "lines" },
    addresses.map((a) => {
      const edit = el("button", {
        type: "button",
        class: "ghost small",
        text: t("Edit"),
        "aria-label": t("Edit address {name}", { name: a.label || a.line1 }),
        onclick: () => {
          item.replaceChildren(addressForm(a, () => run(null, renderAddresses)));
          item.querySelector("input").focus();
        },
      });
      const makeDefault = a.is_default
        ? null
        : el("button", {
            type: "button",
            class: "ghost small",
            text: t("Make default"),
            onclick: (e) =>
              run(e.target, async () => {
                await api("PATCH", `/profile/addresses/${a.id}`, { body: { is_default: true } });
                await renderAddresses();
              }),
          });
      const remove = el("button", {
        type: "button",
        class: "ghost small danger",
        text: t("Delete"),
        "aria-label": t("Delete address {name}", { name: a.label || a.line1 }),
        onclick: (e) =>
          run(e.target, async () => {
            await api("DELETE", `/profile/addresses/${a.id}`);
            notice(t("Address deleted."));
            await renderAddresses();
          }),
      });
      const item = el(
        "li",
        { class: "line", dataset: { addressId: a.id } },
        el(
          "div",
          { class: "line-main" },
          el("strong", {}, a.label || a.full_name, a.is_default ? el("span", { class: "badge ok", text: t("Default") }) : null),
          el("small", { class: "muted", text: `${a.full_name}, ${a.phone}` }),
          el("span", { text: addressText(a) }),
        ),
        el("div", { class: "line-actions" }, edit, makeDefault, remove),
      );
      return item;
    }),
  );
  const add = el("button", {
    type: "button",
    id: "add-address",
    class: "primary",
    text: t("Add an address"),
    onclick: () => {
      box.replaceChildren(addressForm(null, () => run(null, renderAddresses)));
      box.querySelector("input").focus();
    },
  });
  box.replaceChildren(addresses.length ? list : el("p", { class: "muted", text: t("No saved addresses yet.") }), add);
}

// ---------------------------------------------------------------- password

function passwordForm() {
  const { wrap, box } = newPasswordField("change-password");
  return form(
    { id: "password-form", class: "stack", "aria-labelledby": "password-title" },
    [
      el("input", { type: "text", name: "username", autocomplete: "username", hidden: true, value: auth.user?.email || "" }),
      field(t("Current password"), input("current_password", { id: "current-password", type: "password", autocomplete: "current-password", required: true, maxlength: 1024 })),
      wrap,
      el("button", { type: "submit", class: "primary", id: "change-password-button", text: t("Change password") }),
    ],
    async (f) => {
      const body = { current_password: f.elements.current_password.value, new_password: f.elements.new_password.value };
      const changed = await withStepUp(() => withPasswordFeedback(box, () => api("POST", "/auth/password/change", { body })));
      if (changed === undefined) return;
      f.reset();
      notice(t("Password changed. Your other devices were signed out."));
    },
  );
}

async function mount(root) {
  const user = await api("GET", "/profile");
  auth.setUser(user);
  root.append(
    el("h1", { class: "visually-hidden", text: t("Account") }),
    el(
      "div",
      { class: "columns" },
      el("section", { class: "card", "aria-labelledby": "profile-title" }, el("h2", { id: "profile-title", text: t("Profile") }), el("p", { class: "muted", text: user.email || user.phone_number || "" }), profileForm(user)),
      el("section", { id: "addresses", class: "card", "aria-labelledby": "addresses-title" }, el("h2", { id: "addresses-title", text: t("Saved addresses") }), el("div", { id: "addresses-body", class: "stack" })),
      user.email
        ? el("section", { class: "card", "aria-labelledby": "password-title" }, el("h2", { id: "password-title", text: t("Password") }), passwordForm())
        : null,
    ),
  );
  await run(null, renderAddresses);
}

register({ id: "account", label: "Account", nav: true, order: 40, signedIn: true, mount });
