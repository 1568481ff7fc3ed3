"""Reading subject and issuer from a certificate's DER bytes (for failed handshakes)."""

from __future__ import annotations

import ssl

import pytest

from phonepe_gateway.doctor.certificates import describe_der


def der_of(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.decode())


def test_describe_der_when_leaf_has_common_name_then_names_it_and_the_issuer(ca):
    leaf = ca.issue_cert("pay.phonepe.invalid", common_name="pay.phonepe.invalid")

    text = describe_der(der_of(leaf.cert_chain_pems[0].bytes()))

    assert text.startswith("certificate for 'pay.phonepe.invalid' issued by 'trustme")
    assert "Testing CA" in text


def test_describe_der_when_self_signed_ca_then_subject_is_issuer(ca):
    text = describe_der(der_of(ca.cert_pem.bytes()))

    subject, issuer = text.removeprefix("certificate for ").split(" issued by ")
    assert subject == issuer


def test_describe_der_when_bytes_truncated_then_value_error(ca):
    with pytest.raises((ValueError, IndexError)):
        describe_der(der_of(ca.cert_pem.bytes())[:40])
