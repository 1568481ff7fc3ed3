"""Every httpx / ssl / socket exception maps to a category and a request_sent answer."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from phonepe_gateway import (
    AuthenticationError,
    Category,
    DuplicateRequestError,
    GatewayError,
    GatewayServerError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from phonepe_gateway._classify import classify_exception, read_response, retry_after_seconds


def wrapped(kind: type[httpx.HTTPError], cause: BaseException) -> httpx.HTTPError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise kind(str(inner)) from inner
    except httpx.HTTPError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "category", "sent"),
    [
        (
            wrapped(httpx.ConnectError, ConnectionRefusedError(111, "Connection refused")),
            Category.CONNECTION_REFUSED,
            False,
        ),
        (
            wrapped(httpx.ConnectError, socket.gaierror(-2, "Name or service not known")),
            Category.DNS_FAILURE,
            False,
        ),
        (
            httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
            Category.DNS_FAILURE,
            False,
        ),
        (
            wrapped(httpx.ConnectError, ssl.SSLCertVerificationError("certificate verify failed")),
            Category.TLS_ERROR,
            False,
        ),
        (
            httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            Category.TLS_ERROR,
            False,
        ),
        (
            wrapped(httpx.ConnectError, ConnectionResetError(104, "Connection reset by peer")),
            Category.CONNECTION_RESET,
            False,
        ),
        (
            httpx.ConnectError("[Errno 101] Network is unreachable"),
            Category.CONNECTION_REFUSED,
            False,
        ),
        (httpx.ConnectTimeout("timed out"), Category.CONNECT_TIMEOUT, False),
        (httpx.PoolTimeout("no connection"), Category.CONNECT_TIMEOUT, False),
        (httpx.ProxyError("407 Proxy Authentication Required"), Category.PROXY_ERROR, False),
        (httpx.ReadTimeout("timed out"), Category.READ_TIMEOUT, True),
        (httpx.WriteTimeout("timed out"), Category.READ_TIMEOUT, True),
        (
            wrapped(httpx.WriteError, BrokenPipeError(32, "Broken pipe")),
            Category.CONNECTION_RESET,
            False,
        ),
        (
            wrapped(httpx.ReadError, ConnectionResetError(104, "Connection reset by peer")),
            Category.CONNECTION_RESET,
            True,
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            Category.CONNECTION_RESET,
            True,
        ),
        (httpx.RemoteProtocolError("illegal header line"), Category.PROTOCOL_ERROR, True),
        (httpx.LocalProtocolError("bad request"), Category.PROTOCOL_ERROR, False),
        (httpx.UnsupportedProtocol("ftp"), Category.PROTOCOL_ERROR, False),
        (httpx.DecodingError("bad gzip"), Category.PROTOCOL_ERROR, True),
        (socket.gaierror(-2, "Name or service not known"), Category.DNS_FAILURE, False),
        (ssl.SSLError("handshake failure"), Category.TLS_ERROR, False),
        (ConnectionRefusedError(111, "refused"), Category.CONNECTION_REFUSED, False),
        (TimeoutError("timed out"), Category.READ_TIMEOUT, True),
        (OSError("something odd"), Category.CONNECTION_RESET, True),
    ],
)
def test_classify_when_exception_then_category_and_sent(exc, category, sent) -> None:
    failure = classify_exception(exc)
    assert failure.category is category
    assert failure.request_sent is sent
    assert failure.detail


def read(status: int, body: bytes, **headers: str) -> object:
    return read_response(
        status, headers, body, call="order_status", endpoint="http://h/x", attempts=1
    )


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, b'{"code": "UNAUTHORIZED"}', AuthenticationError),
        (400, b'{"success": false, "code": "AUTHORIZATION_FAILED"}', AuthenticationError),
        (404, b'{"code": "NOT_FOUND"}', NotFoundError),
        (400, b'{"code": "TRANSACTION_NOT_FOUND"}', NotFoundError),
        (400, b'{"code": "DUPLICATE_ORDER"}', DuplicateRequestError),
        (409, b"{}", DuplicateRequestError),
        (429, b"{}", RateLimitedError),
        (500, b'{"code": "INTERNAL_SERVER_ERROR"}', GatewayServerError),
        (400, b'{"code": "BAD_REQUEST", "message": "amount"}', GatewayError),
    ],
)
def test_read_response_when_error_status_then_matching_error(status, body, kind) -> None:
    with pytest.raises(kind) as info:
        read(status, body)
    assert type(info.value) is kind
    assert info.value.http_status == status
    assert "http://h/x" in info.value.message
    assert "attempt 1" in info.value.message


def test_read_response_when_oauth_error_shape_then_code_and_message_read() -> None:
    with pytest.raises(AuthenticationError) as info:
        read(
            400, b'{"code": "INVALID_CLIENT", "errorCode": "OIM000", "message": "Client not found"}'
        )
    assert info.value.code == "INVALID_CLIENT"
    assert info.value.gateway_message == "Client not found"


def test_read_response_when_html_200_then_transport_protocol_error_sent() -> None:
    with pytest.raises(TransportError) as info:
        read(200, b"<!DOCTYPE html><html>captive portal</html>", **{"content-type": "text/html"})
    assert info.value.category is Category.PROTOCOL_ERROR
    assert info.value.request_sent is True
    assert "HTML page" in info.value.message


def test_read_response_when_json_array_then_protocol_error() -> None:
    with pytest.raises(TransportError):
        read(200, b"[1, 2]")


def test_read_response_when_empty_503_then_server_error_says_empty() -> None:
    with pytest.raises(GatewayServerError) as info:
        read(503, b"")
    assert "empty body" in info.value.message


def test_read_response_when_429_with_retry_after_then_seconds_kept() -> None:
    with pytest.raises(RateLimitedError) as info:
        read(429, b"{}", **{"retry-after": "7"})
    assert info.value.retry_after == 7.0


def test_retry_after_when_http_date_or_garbage_then_seconds_or_none() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("1.5") == 1.5
