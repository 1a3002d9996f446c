# ruff: noqa: RUF001 (Russian text)
"""What a security notice says, in English and Russian (the markets' languages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LANGUAGES = ("en", "ru")

# kind → language → (subject, what happened). `{device}`, `{at}`, `{address}`, `{provider}`
# come from the notice's details; a missing one reads as "?".
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
}

_FRAME = {
    "en": (
        "{what}\n\nIf this was you, there is nothing to do.\n\nIf it wasn't you, open this link "
        "within {hours} hours: it signs your account out everywhere, and you sign in again.\n"
        "{link}\n",
        "keyturn: {what} Not you? {link}",
    ),
    "ru": (
        "{what}\n\nЕсли это были вы, ничего делать не нужно.\n\nЕсли это были не вы, откройте "
        "ссылку в течение {hours} ч: все сеансы вашего аккаунта будут завершены, и нужно будет "
        "войти заново.\n{link}\n",
        "keyturn: {what} Это не вы? {link}",
    ),
}


@dataclass(frozen=True)
class Text:
    subject: str
    body: str  # the email
    short: str  # the SMS


class _Details(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def language_of(preferred: str | None) -> str:
    code = (preferred or "").lower()[:2]
    return code if code in LANGUAGES else "en"


def render(
    kind: str, language: str, details: dict[str, Any], *, at: datetime, link: str, hours: int
) -> Text:
    subject, what = KINDS[kind][language_of(language)]
    values = _Details({k: str(v) for k, v in details.items() if v is not None})
    values["at"] = at.strftime("%Y-%m-%d %H:%M UTC")
    sentence = what.format_map(values)
    body, short = _FRAME[language_of(language)]
    return Text(
        subject=subject,
        body=body.format(what=sentence, hours=hours, link=link),
        short=short.format(what=sentence, link=link),
    )
