"""Unsafe settings are refused while they load, as ConfigurationError (issue 11)."""

from __future__ import annotations

import pytest

from phonepe_gateway import ConfigurationError
from phonepe_gateway._config import SANDBOX_CREDENTIALS, Settings

PROD = {"env": "production", "client_id": "M22PRODCLIENT", "client_secret": "a-real-secret-9f3k"}


def test_env_when_variable_set_but_empty_then_refused_not_local() -> None:
    with pytest.raises(ConfigurationError, match="PHONEPE_ENV is set but empty"):
        Settings.from_env({"PHONEPE_ENV": "  "})


def test_env_when_variable_unset_then_local() -> None:
    assert Settings.from_env({}).env == "local"


@pytest.mark.parametrize(
    "merchant_id", ["M22\r\nX-Injected: 1", "../../admin", "M22/../x", "M 22", "M22\x00", "x" * 65]
)
def test_merchant_id_when_unsafe_then_refused_at_load(merchant_id: str) -> None:
    with pytest.raises(ConfigurationError, match="PHONEPE_MERCHANT_ID may contain only"):
        Settings.from_env({"PHONEPE_MERCHANT_ID": merchant_id, "PHONEPE_SALT_KEY": "k" * 20})


def test_merchant_id_when_dashboard_shaped_then_accepted() -> None:
    settings = Settings.build(merchant_id="M22ABCDEF_01-x", salt_key="k" * 20)
    assert settings.merchant_id == "M22ABCDEF_01-x"


@pytest.mark.parametrize("name", ["client_id", "webhook_username", "user_agent"])
def test_header_values_when_crlf_then_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"PHONEPE_{name.upper()}"):
        Settings.build(**{name: "abc\r\nX-Evil: 1"})


def test_client_id_when_path_segment_then_refused() -> None:
    with pytest.raises(ConfigurationError, match="PHONEPE_CLIENT_ID"):
        Settings.build(**{**PROD, "client_id": "../../v1/oauth"})


@pytest.mark.parametrize("env", ["production", "sandbox"])
@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ({"webhook_password": SANDBOX_CREDENTIALS["webhook_password"]}, "PHONEPE_WEBHOOK_PASSWORD"),
        (
            {"webhook_credentials": f"old:{SANDBOX_CREDENTIALS['webhook_password']}"},
            "PHONEPE_WEBHOOK_CREDENTIALS",
        ),
        ({"client_secret": SANDBOX_CREDENTIALS["client_secret"]}, "PHONEPE_CLIENT_SECRET"),
    ],
)
def test_published_sandbox_credentials_when_not_local_then_refused(
    env: str, option: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable) as caught:
        Settings.build(**{**PROD, "env": env, "webhook_username": "hook", **option})
    assert SANDBOX_CREDENTIALS["webhook_password"] not in str(caught.value)
    assert SANDBOX_CREDENTIALS["client_secret"] not in str(caught.value)


def test_published_salt_key_when_production_v1_then_refused() -> None:
    with pytest.raises(ConfigurationError, match="PHONEPE_SALT_KEY"):
        Settings.build(
            env="production", merchant_id="M22REAL", salt_key=SANDBOX_CREDENTIALS["salt_key"]
        )


def test_public_uat_merchant_when_production_then_refused_but_fine_in_sandbox() -> None:
    uat = {"merchant_id": "PGTESTPAYUAT", "salt_key": "099eb0cd-02cf-4e2a-8aca-3e6c6aff0399"}
    with pytest.raises(ConfigurationError, match="public UAT test merchant"):
        Settings.build(env="production", **uat)
    assert Settings.build(env="sandbox", **uat).merchant_id == "PGTESTPAYUAT"


def test_published_credentials_when_local_then_defaults() -> None:
    settings = Settings.build(env="local")
    assert settings.webhook_pairs == (
        (SANDBOX_CREDENTIALS["webhook_username"], SANDBOX_CREDENTIALS["webhook_password"]),
    )


@pytest.mark.parametrize("option", ["base_urls", "oauth_urls"])
def test_http_gateway_url_when_production_then_refused(option: str) -> None:
    with pytest.raises(ConfigurationError, match=f"PHONEPE_{option.upper()} has a non-https"):
        Settings.build(**{**PROD, option: "http://api.phonepe.example/apis/pg"})


def test_http_gateway_url_when_loopback_sidecar_then_accepted() -> None:
    settings = Settings.build(**{**PROD, "base_urls": "http://127.0.0.1:8443/apis/pg"})
    assert settings.base_urls == ("http://127.0.0.1:8443/apis/pg",)


def test_sandbox_client_secret_when_every_url_loopback_then_accepted_as_test_rig() -> None:
    settings = Settings.build(
        **{
            **PROD,
            "client_secret": SANDBOX_CREDENTIALS["client_secret"],
            "base_urls": "http://127.0.0.1:8300/apis/pg-sandbox",
        }
    )
    assert settings.env == "production"
