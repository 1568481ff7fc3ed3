"""The instruments a merchant names for custom checkout and AutoPay: checked when built."""

from __future__ import annotations

import pytest

from phonepe_gateway import (
    Card,
    NetBanking,
    PaymentModes,
    Token,
    UpiCollect,
    UpiIntent,
    UpiQr,
    ValidationError,
)


def test_upi_instruments_take_phonepes_wire_shape() -> None:
    assert UpiIntent().to_wire() == {"type": "UPI_INTENT"}
    assert UpiIntent(target_app="com.phonepe.app").to_wire() == {
        "type": "UPI_INTENT",
        "targetApp": "com.phonepe.app",
    }
    assert UpiQr().to_wire() == {"type": "UPI_QR"}
    assert UpiCollect(vpa="driver@ybl", message="Parking").to_wire() == {
        "type": "UPI_COLLECT",
        "details": {"type": "VPA", "vpa": "driver@ybl"},
        "message": "Parking",
    }
    assert UpiCollect(phone="9876543210").to_wire()["details"] == {
        "type": "PHONE_NUMBER",
        "phoneNumber": "9876543210",
    }
    assert NetBanking(bank_id="HDFC").to_wire() == {"type": "NET_BANKING", "bankId": "HDFC"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: UpiCollect(), "vpa"),
        (lambda: UpiCollect(vpa="a@b", phone="9876543210"), "vpa"),
        (lambda: UpiCollect(vpa="no-at-sign"), "vpa"),
        (lambda: UpiCollect(phone="+919876543210"), "phone"),
        (lambda: UpiCollect(phone="1234567890"), "phone"),
        (lambda: UpiIntent(target_app=""), "target_app"),
        (lambda: NetBanking(bank_id="HD\r\nFC"), "bank_id"),
        (lambda: Card(1, "enc", "cvv", "13", "2030"), "expiry_month"),
        (lambda: Card(True, "enc", "cvv", "12", "2030"), "encryption_key_id"),  # type: ignore[arg-type]
        (lambda: Token(1, "tok", "cvv", "cg", "12345", "01", "2030"), "pan_suffix"),
        (lambda: PaymentModes(), "enabled"),
        (lambda: PaymentModes(enabled=("WALLET",)), "enabled"),
        (lambda: PaymentModes(enabled=("UPI_QR",), disabled=("UPI_QR",)), "enabled"),
    ],
)
def test_bad_instruments_are_refused_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


def test_card_secrets_stay_out_of_the_repr() -> None:
    card = Card(7, "ENCRYPTED-PAN", "ENCRYPTED-CVV", "09", "2031", card_holder_name="A Driver")
    token = Token(7, "ENCRYPTED-TOKEN", "ENCRYPTED-CVV", "CRYPTOGRAM", "4242", "09", "2031")
    for shown in (repr(card), repr(token)):
        assert "ENCRYPTED" not in shown
        assert "CRYPTOGRAM" not in shown
    wire = card.to_wire()
    assert wire["cardDetails"]["expiry"] == {"month": "09", "year": "2031"}
    assert wire["authMode"] == "3DS"


def test_payment_modes_split_cards_by_type() -> None:
    wire = PaymentModes(enabled=("UPI_INTENT", "DEBIT_CARD")).to_wire()
    assert wire == {
        "enabledPaymentModes": [
            {"type": "UPI_INTENT"},
            {"type": "CARD", "cardTypes": ["DEBIT_CARD"]},
        ]
    }
