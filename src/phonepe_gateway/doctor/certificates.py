"""Who issued the certificate a server presented, even when it failed verification.

When the TLS check fails, the most useful fact is the certificate's issuer: "issued by
FortiGate CA" names an intercepting firewall at once. Python's ``ssl`` only decodes
*verified* certificates, so this module reads the subject and issuer common names
straight from the DER bytes (a few lines of ASN.1 walking: no ``cryptography``
dependency for one diagnostic). It is used only on an already failed handshake, never
to make a trust decision.
"""

from __future__ import annotations

import socket
import ssl

__all__ = ["describe_der", "peek_certificate"]

_NAMES = {
    bytes.fromhex("550403"): "CN",
    bytes.fromhex("55040a"): "O",
    bytes.fromhex("55040b"): "OU",
}


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``at``."""
    tag, length = data[at], data[at + 1]
    header = 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at + 2 : at + 2 + count], "big")
        header += count
    start = at + header
    if start + length > len(data):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    while start < end:
        item = _tlv(data, start)
        items.append(item)
        start = item[2]
    return items


def _name(data: bytes, start: int, end: int) -> str:
    found: dict[str, str] = {}
    for _, set_start, set_end in _children(data, start, end):
        for _, seq_start, seq_end in _children(data, set_start, set_end):
            (_, oid_start, oid_end), (_, val_start, val_end) = _children(data, seq_start, seq_end)[
                :2
            ]
            key = _NAMES.get(data[oid_start:oid_end])
            if key and key not in found:
                found[key] = data[val_start:val_end].decode("utf-8", "replace")
    if "CN" in found:
        return found["CN"]
    return " / ".join(found[key] for key in ("O", "OU") if key in found) or "?"


def describe_der(der: bytes) -> str:
    """``"certificate for <subject> issued by <issuer>"`` from a DER certificate."""
    _, cert_start, cert_end = _tlv(der, 0)
    _, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # explicit [0] version
        fields = fields[1:]
    issuer, subject = fields[2], fields[4]
    return (
        f"certificate for {_name(der, subject[1], subject[2])!r} "
        f"issued by {_name(der, issuer[1], issuer[2])!r}"
    )


def peek_certificate(sock: socket.socket, hostname: str, timeout: float) -> str | None:
    """Handshake *without* verification only to read the presented certificate; closes ``sock``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sock.settimeout(timeout)
    try:
        with context.wrap_socket(sock, server_hostname=hostname) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        sock.close()
        return None
    if not der:
        return None
    try:
        return describe_der(der)
    except (ValueError, IndexError):
        return None
