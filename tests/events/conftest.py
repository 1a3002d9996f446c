from tests.harness.oauth_fixtures import providers, social  # noqa: F401
