"""conf: PHONEPE dict over the environment, app options kept apart, one cached client whose
every call is re-sent as `gateway_call` and logged once; robust signals; DB outages -> 503."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from phonepe_gateway import PhonePeClient
from phonepe_gateway._errors import ConfigurationError
from phonepe_gateway.django import conf, services, signals
from phonepe_gateway.django.exceptions import StorageUnavailable
from phonepe_gateway.django.models import GatewayCallLog, Payment


def test_get_settings_dict_and_env_then_dict_wins(settings, monkeypatch) -> None:
    monkeypatch.setenv("PHONEPE_READ_TIMEOUT", "7")
    monkeypatch.setenv("PHONEPE_CONNECT_TIMEOUT", "2")
    settings.PHONEPE = {"READ_TIMEOUT": 4, "call_log": False, "webhook_max_bytes": 10}
    got = conf.get_settings()
    assert got.read_timeout == 4.0
    assert got.connect_timeout == 2.0
    assert conf.app_setting("call_log") is False
    assert conf.app_setting("expiry_grace") == conf.APP_DEFAULTS["expiry_grace"]


def test_get_settings_unknown_option_then_configuration_error_names_it(settings) -> None:
    settings.PHONEPE = {"client_idd": "x"}
    with pytest.raises(ConfigurationError, match="client_idd"):
        conf.get_settings()


def test_get_client_then_one_cached_client_until_reset(settings) -> None:
    settings.PHONEPE = {"env": "local"}
    first = conf.get_client()
    assert isinstance(first, PhonePeClient)
    assert conf.get_client() is first
    conf.reset_client()
    assert conf.get_client() is not first


def test_phonepe_setting_changed_then_settings_and_client_built_again(settings) -> None:
    settings.PHONEPE = {"env": "local", "read_timeout": 4}
    first, read = conf.get_client(), conf.get_settings()
    assert conf.get_settings() is read  # read once
    settings.PHONEPE = {"env": "local", "read_timeout": 6}
    assert conf.get_settings().read_timeout == 6.0
    second = conf.get_client()
    assert second is not first
    assert second.settings.read_timeout == 6.0


def test_other_setting_changed_then_client_kept(settings) -> None:
    settings.PHONEPE = {"env": "local"}
    client = conf.get_client()
    settings.PHONEPE_WEBHOOK_PROCESSING = "inline"
    assert conf.get_client() is client


def test_phonepe_setting_changed_then_installed_client_kept(settings) -> None:
    installed = object()
    conf.set_client(installed)
    try:
        settings.PHONEPE = {"env": "local", "read_timeout": 5}
        assert conf.get_client() is installed  # its owner installed it; settings did not build it
        assert conf.get_settings().read_timeout == 5.0
    finally:
        conf.reset_client()


@pytest.mark.django_db(transaction=True)
def test_gateway_call_then_signal_per_attempt_and_one_log_row_per_call(phonepe_sandbox) -> None:
    seen = []

    def receiver(sender, event, **kw) -> None:
        seen.append(event)

    signals.gateway_call.connect(receiver, weak=False)
    try:
        payment = services.create_payment(amount=1000)
        services.sync_payment(payment)
    finally:
        signals.gateway_call.disconnect(receiver)
    assert [e.call for e in seen] == ["oauth_token", "create_payment", "order_status"]
    rows = list(GatewayCallLog.objects.order_by("id").values_list("call", "outcome", "status"))
    assert rows == [
        ("oauth_token", "ok", 200),
        ("create_payment", "ok", 200),
        ("order_status", "ok", 200),
    ]


@pytest.mark.django_db(transaction=True)
def test_gateway_call_log_disabled_then_no_rows(phonepe_sandbox, settings) -> None:
    settings.PHONEPE = {**settings.PHONEPE, "call_log": False}
    services.create_payment(amount=1000)
    assert not GatewayCallLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_failing_signal_receiver_then_transition_kept_and_no_error(gateway) -> None:
    def broken(sender, **kw) -> None:
        raise RuntimeError("host bug")

    signals.payment_completed.connect(broken, weak=False)
    try:
        payment = services.create_payment(amount=1000)
        gateway.settle(payment.merchant_order_id, "COMPLETED")
        assert services.sync_payment(payment).state == "COMPLETED"
    finally:
        signals.payment_completed.disconnect(broken)
    assert Payment.objects.get().state == "COMPLETED"


def _fail_on(fragment: str):
    def wrapper(execute, sql, params, many, context):
        if fragment in sql:
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db(transaction=True)
def test_create_payment_database_down_then_storage_unavailable_nothing_sent(gateway) -> None:
    with (
        connection.execute_wrapper(_fail_on('INSERT INTO "phonepe_payment"')),
        pytest.raises(StorageUnavailable) as info,
    ):
        services.create_payment(amount=1000)
    assert info.value.http_status == 503
    assert gateway.calls["create_payment"] == 0


@pytest.mark.django_db(transaction=True)
def test_create_payment_database_down_after_gateway_then_503_and_reconciled_later(gateway) -> None:
    from phonepe_gateway.django import reconcile

    with (
        connection.execute_wrapper(_fail_on('UPDATE "phonepe_payment"')),
        pytest.raises(StorageUnavailable),
    ):
        services.create_payment(amount=1000, merchant_order_id="DB-DOWN")
    payment = Payment.objects.get()
    assert payment.state == "CREATED"  # stored before the call, due for a check
    assert reconcile.run_once(now=payment.next_check_at) == 1
    payment.refresh_from_db()
    assert payment.state == "PENDING"
