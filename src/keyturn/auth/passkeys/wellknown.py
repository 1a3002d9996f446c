"""The association files that let our iOS and Android apps use the site's passkeys, built from
settings (`KEYTURN_PASSKEYS__APPLE_APP_IDS`, `KEYTURN_PASSKEYS__ANDROID_APPS`)."""

from typing import Any

from keyturn.config import PasskeySettings

# Credential sharing needs get_login_creds; Android also wants handle_all_urls before it
# lets an app use the site's passkeys (Credential Manager prerequisites).
ANDROID_RELATIONS = [
    "delegate_permission/common.handle_all_urls",
    "delegate_permission/common.get_login_creds",
]


def apple_app_site_association(settings: PasskeySettings) -> dict[str, Any] | None:
    """`webcredentials` for the configured iOS apps; None when there are none."""
    if not settings.apple_app_ids:
        return None
    return {"webcredentials": {"apps": list(settings.apple_app_ids)}}


def asset_links(settings: PasskeySettings) -> list[dict[str, Any]] | None:
    """Digital Asset Links statements for the configured Android apps; None when none."""
    if not settings.android_apps:
        return None
    return [
        {
            "relation": ANDROID_RELATIONS,
            "target": {
                "namespace": "android_app",
                "package_name": app.package_name,
                "sha256_cert_fingerprints": app.sha256_cert_fingerprints,
            },
        }
        for app in settings.android_apps
    ]
