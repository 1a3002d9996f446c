"""The SMS provider this deployment uses (`Settings.sms.provider`)."""

from __future__ import annotations

from keyturn.config import Settings
from keyturn.notify.sms import ConsoleSms, SmsProvider


def make_sms_provider(settings: Settings) -> SmsProvider:
    if settings.sms.provider == "console":
        return ConsoleSms(settings)
    from keyturn.notify import twilio  # the Twilio SDK is loaded only when it is used

    return twilio.make_provider(settings)
