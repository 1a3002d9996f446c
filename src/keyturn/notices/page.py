# ruff: noqa: RUF001 (Russian text)
"""The small page a notice's "this wasn't me" link opens: opening it changes nothing (mail
scanners open links); its button posts the form that ends every session. No script, no
style sheet, a strict CSP."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

from keyturn.notices.messages import language_of

CONFIRM, DONE, INVALID = "confirm", "done", "invalid"

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

TEXTS = {
    "en": {
        "title": "Secure your account",
        CONFIRM: "<p>If you did not make the change we told you about, press the button: "
        "{effect}</p>"
        '<form method="post" action="/wasnt-me"><input type="hidden" name="token" '
        'value="{token}"><button type="submit">It wasn\'t me: secure my account</button></form>',
        DONE: "<p>Done: every session of your account has ended. Sign in again; if you use a "
        "password, change it.</p>",
        INVALID: "<p>This link is invalid, expired or was already used.</p>",
    },
    "ru": {
        "title": "Защитите аккаунт",
        CONFIRM: "<p>Если это изменение сделали не вы, нажмите кнопку: {effect}</p>"
        '<form method="post" action="/wasnt-me"><input type="hidden" name="token" '
        'value="{token}"><button type="submit">Это был не я: защитить аккаунт</button></form>',
        DONE: "<p>Готово: все сеансы вашего аккаунта завершены. Войдите заново; если вы "
        "входите с паролем, смените его.</p>",
        INVALID: "<p>Ссылка недействительна, устарела или уже была использована.</p>",
    },
}


def render(
    language: str, state: str, *, token: str = "", effect: str = "", status: int = 200
) -> HTMLResponse:
    """`token` must already be HTML-escaped; `effect` (what the link does) is escaped here."""
    lang = language_of(language)
    texts = TEXTS[lang]
    body = texts[state].replace("{effect}", html.escape(effect)).replace("{token}", token)
    document = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{texts['title']}</title></head><body><h1>{texts['title']}</h1>{body}"
        "</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)
