"""Settings: environment parsing, defaults per environment, validation messages, masking."""

from __future__ import annotations

import dataclasses

import pytest

from phonepe_gateway import ConfigurationError, Secret, Settings
from phonepe_gateway._config import ENVIRONMENTS, mask

CANARY = "canary-secret-7f3a9c"


def test_settings_when_environment_is_empty_then_local_sandbox_defaults() -> None:
    s = Settings.from_env({})
    assert s.env == "local"
    assert s.api_version == "v2"
    assert s.client_id == "PGSANDBOXCLIENT"
    assert s.client_secret == Secret("sandbox-client-secret")
    assert s.base_urls == ("http://127.0.0.1:8300/apis/pg-sandbox",)
    assert s.oauth_urls == s.base_urls
    assert (s.connect_timeout, s.read_timeout, s.timeout, s.max_retries) == (3.5, 10.0, 30.0, 2)
    assert s.webhook_pairs == (("sandboxhook", "sandboxpass1"),)


@pytest.mark.parametrize("env", ["local", "production"])
def test_settings_when_option_unset_then_the_field_default_is_the_value(env) -> None:
    # The defaults are stated once, on the dataclass; reading the environment must not
    # carry a second copy that could drift (the README table is checked against these).
    environ = {"PHONEPE_ENV": env, "PHONEPE_CLIENT_ID": "id", "PHONEPE_CLIENT_SECRET": "secret"}
    s = Settings.from_env(environ)
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    for name in (
        "client_version", "salt_index", "local_url", "connect_timeout", "read_timeout",
        "timeout", "max_retries", "connection_pool_size", "user_agent", "proxy",
    ):  # fmt: skip
        assert getattr(s, name) == defaults[name], name


def test_settings_when_simulation_mode_true_then_local() -> None:
    s = Settings.from_env(
        {"PHONEPE_SIMULATION_MODE": "true", "PHONEPE_LOCAL_URL": "http://127.0.0.1:9999"}
    )
    assert s.env == "local"
    assert s.base_urls == ("http://127.0.0.1:9999/apis/pg-sandbox",)


def test_settings_when_simulation_mode_contradicts_env_then_error_names_both() -> None:
    with pytest.raises(
        ConfigurationError, match=r"PHONEPE_SIMULATION_MODE.*PHONEPE_ENV=production"
    ):
        Settings.from_env({"PHONEPE_SIMULATION_MODE": "true", "PHONEPE_ENV": "production"})


def test_settings_when_production_without_credentials_then_error_says_what_to_set() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"PHONEPE_ENV": "production"})
    assert "PHONEPE_CLIENT_ID" in str(info.value)
    assert "PHONEPE_ENV=local" in str(info.value)


def test_settings_when_production_v2_then_production_hosts() -> None:
    s = Settings.from_env(
        {"PHONEPE_ENV": "production", "PHONEPE_CLIENT_ID": "M1", "PHONEPE_CLIENT_SECRET": CANARY}
    )
    assert s.base_urls == (ENVIRONMENTS["production"]["v2"][0],)
    assert s.oauth_urls == (ENVIRONMENTS["production"]["v2"][1],)


def test_settings_when_only_salt_key_credentials_then_generation_1_inferred() -> None:
    s = Settings.from_env(
        {"PHONEPE_ENV": "sandbox", "PHONEPE_MERCHANT_ID": "M1", "PHONEPE_SALT_KEY": CANARY}
    )
    assert s.api_version == "v1"
    assert s.base_urls == (ENVIRONMENTS["sandbox"]["v1"][0],)


def test_settings_when_base_urls_given_then_oauth_urls_follow_them() -> None:
    s = Settings.from_env({"PHONEPE_BASE_URLS": "http://127.0.0.1:1/a, http://127.0.0.1:2/b/"})
    assert s.base_urls == ("http://127.0.0.1:1/a", "http://127.0.0.1:2/b")
    assert s.oauth_urls == s.base_urls


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("PHONEPE_ENV", "staging", "PHONEPE_ENV must be one of"),
        ("PHONEPE_API_VERSION", "v3", "PHONEPE_API_VERSION must be one of"),
        ("PHONEPE_CONNECT_TIMEOUT", "soon", "PHONEPE_CONNECT_TIMEOUT must be a number"),
        ("PHONEPE_READ_TIMEOUT", "-1", "PHONEPE_READ_TIMEOUT must be a positive"),
        ("PHONEPE_MAX_RETRIES", "-1", "PHONEPE_MAX_RETRIES must be at least 0"),
        ("PHONEPE_CONNECTION_POOL_SIZE", "0", "PHONEPE_CONNECTION_POOL_SIZE must be at least 1"),
        ("PHONEPE_BASE_URLS", "ftp://example.invalid", "PHONEPE_BASE_URLS must be an http(s) URL"),
        ("PHONEPE_SIMULATION_MODE", "maybe", "PHONEPE_SIMULATION_MODE must be true or false"),
        ("PHONEPE_TIMEOUT", "1", "PHONEPE_TIMEOUT is the ceiling"),
    ],
)
def test_settings_when_value_invalid_then_error_names_variable(
    variable: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigurationError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({variable: value})


def test_settings_when_keyword_given_then_it_wins_over_environment() -> None:
    s = Settings.from_env({"PHONEPE_MAX_RETRIES": "5"}, max_retries=1)
    assert s.max_retries == 1


def test_settings_when_unknown_keyword_then_error_lists_known_options() -> None:
    with pytest.raises(ConfigurationError, match="Unknown PhonePe option 'clientid'"):
        Settings.from_env({}, clientid="x")


def test_settings_when_https_proxy_set_then_used_unless_phonepe_proxy_set() -> None:
    assert (
        Settings.from_env({"HTTPS_PROXY": "http://127.0.0.1:3128"}).proxy == "http://127.0.0.1:3128"
    )
    s = Settings.from_env(
        {"HTTPS_PROXY": "http://127.0.0.1:3128", "PHONEPE_PROXY": "http://127.0.0.1:8888"}
    )
    assert s.proxy == "http://127.0.0.1:8888"


def test_settings_repr_when_secrets_set_then_only_last_four_characters_shown() -> None:
    s = Settings.from_env(
        {
            "PHONEPE_CLIENT_SECRET": CANARY,
            "PHONEPE_SALT_KEY": CANARY,
            "PHONEPE_WEBHOOK_PASSWORD": CANARY,
            "PHONEPE_PROXY": f"http://user:{CANARY}@127.0.0.1:3128",
            "PHONEPE_WEBHOOK_CREDENTIALS": f"old:{CANARY}",
        }
    )
    for text in (repr(s), str(s), str(s.describe()), repr(s.client_secret), str(s.salt_key)):
        assert CANARY not in text
    assert "9c" in repr(s.client_secret)


def test_mask_when_short_value_then_nothing_revealed() -> None:
    assert mask("abc") == "****"
    assert mask(None) == "<unset>"
    assert mask("abcdefghijkl") == "****ijkl"


def test_settings_when_rotation_pairs_given_then_all_accepted_current_first() -> None:
    s = Settings.from_env(
        {
            "PHONEPE_WEBHOOK_USERNAME": "current",
            "PHONEPE_WEBHOOK_PASSWORD": "newpass123",
            "PHONEPE_WEBHOOK_CREDENTIALS": "previous:oldpass123",
        }
    )
    assert s.webhook_pairs == (("current", "newpass123"), ("previous", "oldpass123"))
