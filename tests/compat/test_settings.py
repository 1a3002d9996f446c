"""`KEYTURN_COMPAT`: on by default in development, off in production, names checked."""

import pytest

from keyturn.config import ConfigError, load_settings

PRODUCTION = {
    "env": "production",
    "secret_key": "x" * 40,
    "mfa": {"encryption_key": "m" * 40},
    "allow_console_sms": True,
    "allow_console_email": True,
    "allow_generated_keys": True,
    "allow_sqlite": True,
}


def test_compat_is_on_in_development_and_off_in_production_unless_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KEYTURN_COMPAT", raising=False)
    development = load_settings(env="development", _env_file=None)
    assert development.compat_on("jobpsych") and development.compat_on("mobile-v0")
    production = load_settings(_env_file=None, **PRODUCTION)
    assert not production.compat_on("jobpsych") and not production.compat_on("mobile-v0")
    monkeypatch.setenv("KEYTURN_COMPAT", "mobile-v0")
    listed = load_settings(_env_file=None, **PRODUCTION)
    assert listed.compat_on("mobile-v0") and not listed.compat_on("jobpsych")
    monkeypatch.setenv("KEYTURN_COMPAT", "")
    assert not load_settings(env="development", _env_file=None).compat_on("jobpsych")


def test_an_unknown_compat_name_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYTURN_COMPAT", "jobpsych,mobile-v1")
    with pytest.raises(ConfigError, match=r"KEYTURN_COMPAT.*mobile-v1"):
        load_settings(_env_file=None)
