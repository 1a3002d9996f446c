# ruff: noqa: RUF001 (Russian text)
"""What a security notice says, in English and Russian (the markets' languages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LANGUAGES = ("en", "ru")

# kind → language → (subject, what happened). `{device}`, `{at}`, `{address}`, `{provider}`,
# `{remaining}` come from the notice's details; a missing one reads as "?".
KINDS: dict[str, dict[str, tuple[str, str]]] = {
    "new_device": {
        "en": (
            "New sign-in to your account",
            "Someone signed in to your account from a new device ({device}) on {at}.",
        ),
        "ru": (
            "Новый вход в ваш аккаунт",
            "В ваш аккаунт вошли с нового устройства ({device}) {at}.",
        ),
    },
    "password_changed": {
        "en": ("Your password was changed", "The password of your account was changed on {at}."),
        "ru": ("Пароль изменён", "Пароль вашего аккаунта был изменён {at}."),
    },
    "email_changed": {
        "en": (
            "Your email address was changed",
            "The email address of your account was set to {address} on {at}.",
        ),
        "ru": (
            "Адрес электронной почты изменён",
            "Адрес электронной почты вашего аккаунта изменён на {address} {at}.",
        ),
    },
    "phone_changed": {
        "en": (
            "Your phone number was changed",
            "The phone number of your account was set to {address} on {at}.",
        ),
        "ru": (
            "Номер телефона изменён",
            "Номер телефона вашего аккаунта изменён на {address} {at}.",
        ),
    },
    "passkey_added": {
        "en": ("A passkey was added", "A passkey ({device}) was added to your account on {at}."),
        "ru": ("Добавлен ключ доступа", "К вашему аккаунту добавлен ключ доступа ({device}) {at}."),
    },
    "passkey_removed": {
        "en": (
            "A passkey was removed",
            "A passkey ({device}) was removed from your account on {at}.",
        ),
        "ru": ("Ключ доступа удалён", "Из вашего аккаунта удалён ключ доступа ({device}) {at}."),
    },
    "identity_linked": {
        "en": (
            "A sign-in was linked to your account",
            "Your {provider} account was linked to your account on {at}: it can sign in now.",
        ),
        "ru": (
            "К аккаунту привязан вход",
            "К вашему аккаунту привязан аккаунт {provider} {at}: с ним теперь можно войти.",
        ),
    },
    "identity_unlinked": {
        "en": (
            "A sign-in was unlinked from your account",
            "Your {provider} account was unlinked from your account on {at}.",
        ),
        "ru": (
            "От аккаунта отвязан вход",
            "От вашего аккаунта отвязан аккаунт {provider} {at}.",
        ),
    },
    "second_factor_added": {
        "en": (
            "Two-step verification was turned on",
            "A second sign-in step ({device}) was added to your account on {at}.",
        ),
        "ru": (
            "Включена двухэтапная проверка",
            "К вашему аккаунту добавлен второй шаг входа ({device}) {at}.",
        ),
    },
    "second_factor_removed": {
        "en": (
            "Two-step verification was turned off",
            "A second sign-in step ({device}) was removed from your account on {at}.",
        ),
        "ru": (
            "Двухэтапная проверка отключена",
            "Из вашего аккаунта удалён второй шаг входа ({device}) {at}.",
        ),
    },
    "recovery_code_used": {
        "en": (
            "A recovery code was used",
            "One of your recovery codes was used to sign in or confirm it was you on {at}. "
            "Recovery codes left: {remaining}.",
        ),
        "ru": (
            "Использован резервный код",
            "Один из ваших резервных кодов использован для входа или подтверждения личности "
            "{at}. Осталось резервных кодов: {remaining}.",
        ),
    },
    "recovery_codes_replaced": {
        "en": (
            "Your recovery codes were replaced",
            "New recovery codes were made for your account on {at}; the old ones no longer work.",
        ),
        "ru": (
            "Резервные коды заменены",
            "Для вашего аккаунта созданы новые резервные коды {at}; старые больше не действуют.",
        ),
    },
}

_FRAME = {
    "en": (
        "{what}\n\nIf this was you, there is nothing to do.\n\nIf it wasn't you, open this link "
        "within {hours} hours: {effect}\n{link}\n",
        "keyturn: {what} Not you? {effect}{link}",
    ),
    "ru": (
        "{what}\n\nЕсли это были вы, ничего делать не нужно.\n\nЕсли это были не вы, откройте "
        "ссылку в течение {hours} ч: {effect}\n{link}\n",
        "keyturn: {what} Это не вы? {effect}{link}",
    ),
}

# What the link does (`notices.wasnt_me`), for the email and the SMS: it always ends every
# session; a notice whose details name the way in that was added (`auth.ways_in.remove_added`
# reads the same keys) also removes that, and says so.
_SIGN_OUT = {
    "en": ("it signs your account out everywhere, and you sign in again.", ""),
    "ru": ("все сеансы вашего аккаунта будут завершены, и нужно будет войти заново.", ""),
}
_REMOVE: dict[str, dict[str, tuple[str, str]]] = {
    "passkey_id": {
        "en": (
            "it removes this passkey from your account, signs your account out everywhere, "
            "and you sign in again.",
            "This link removes the passkey and signs you out everywhere: ",
        ),
        "ru": (
            "этот ключ доступа будет удалён из вашего аккаунта, все сеансы аккаунта будут "
            "завершены, и нужно будет войти заново.",
            "Ссылка удалит ключ доступа и завершит все сеансы: ",
        ),
    },
    "identity_id": {
        "en": (
            "it unlinks this {provider} account from yours (it no longer signs you in), signs "
            "your account out everywhere, and you sign in again.",
            "This link unlinks {provider} and signs you out everywhere: ",
        ),
        "ru": (
            "аккаунт {provider} будет отвязан от вашего и больше не сможет входить, все сеансы "
            "аккаунта будут завершены, и нужно будет войти заново.",
            "Ссылка отвяжет {provider} и завершит все сеансы: ",
        ),
    },
    "factor_id": {
        "en": (
            "it removes this authenticator app and its recovery codes from your account, signs "
            "your account out everywhere, and you sign in again.",
            "This link removes the app and signs you out everywhere: ",
        ),
        "ru": (
            "это приложение-аутентификатор и его резервные коды будут удалены из вашего "
            "аккаунта, все сеансы аккаунта будут завершены, и нужно будет войти заново.",
            "Ссылка удалит приложение и завершит все сеансы: ",
        ),
    },
}


@dataclass(frozen=True)
class Text:
    subject: str
    body: str  # the email
    short: str  # the SMS


# Labels services write into `details` in English (`auth.mfa.service`), as each language says them.
_LABELS = {
    "ru": {
        "authenticator app": "приложение-аутентификатор",
        "reset by the shop": "сброшен магазином",
    }
}


class _Details(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def language_of(preferred: str | None) -> str:
    code = (preferred or "").lower()[:2]
    return code if code in LANGUAGES else "en"


def _effects(language: str, details: dict[str, Any]) -> tuple[str, str]:
    """What the link does, for the email and for the SMS."""
    added = next((key for key in _REMOVE if details.get(key) is not None), None)
    return (_REMOVE[added] if added else _SIGN_OUT)[language]


def link_effect(language: str, details: dict[str, Any]) -> str:
    """What the notice's link does, as the email says it (the page the link opens repeats it)."""
    values = _Details({k: str(v) for k, v in details.items() if v is not None})
    return _effects(language_of(language), details)[0].format_map(values)


def render(
    kind: str, language: str, details: dict[str, Any], *, at: datetime, link: str, hours: int
) -> Text:
    lang = language_of(language)
    subject, what = KINDS[kind][lang]
    labels = _LABELS.get(lang, {})
    values = _Details({k: labels.get(str(v), str(v)) for k, v in details.items() if v is not None})
    values["at"] = at.strftime("%Y-%m-%d %H:%M UTC")
    sentence = what.format_map(values)
    effect, short_effect = _effects(lang, details)
    body, short = _FRAME[lang]
    return Text(
        subject=subject,
        body=body.format(what=sentence, hours=hours, effect=effect.format_map(values), link=link),
        short=short.format(what=sentence, effect=short_effect.format_map(values), link=link),
    )
