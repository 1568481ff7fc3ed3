"""TCP works but the conversation does not: HTTP errors, silence, resets, garbage,
TLS against a plain port, a proxy that wants credentials, a half-broken host."""

from __future__ import annotations

import json

from phonepe_gateway.doctor import Verdict, run_diagnostics

from .helpers import check, local_settings


def test_http_when_server_answers_503_then_http_error(http_server):
    server = http_server(status="503 Service Unavailable")
    report = run_diagnostics(local_settings(server.url))

    http = check(report, "http http://127.0.0.1")
    assert (http.status, http.category) == ("fail", Verdict.HTTP_ERROR)
    assert "503 Service Unavailable" in http.detail
    assert "server error" in http.remedy


def test_http_when_server_answers_404_then_ok_because_it_answered(http_server):
    server = http_server(status="404 Not Found")
    report = run_diagnostics(local_settings(server.url + "/apis/pg"))

    http = check(report, "http http://127.0.0.1")
    assert http.status == "ok"
    assert server.requests[0].startswith(b"GET /apis/pg/ HTTP/1.1\r\n")


def test_http_when_server_never_answers_then_read_timeout(http_server):
    server = http_server(reply="silent")
    report = run_diagnostics(local_settings(server.url, read_timeout=0.5))

    http = check(report, "http http://127.0.0.1")
    assert (http.status, http.category) == ("fail", Verdict.READ_TIMEOUT)
    assert "no answer within 0.5 s" in http.detail


def test_http_when_server_resets_then_connection_reset(http_server):
    server = http_server(reply="close")
    report = run_diagnostics(local_settings(server.url))

    http = check(report, "http http://127.0.0.1")
    assert (http.status, http.category) == ("fail", Verdict.CONNECTION_RESET)
    assert "something in between" in http.remedy


def test_http_when_server_speaks_another_protocol_then_protocol_error(http_server):
    server = http_server(reply="garbage")
    report = run_diagnostics(local_settings(server.url))

    http = check(report, "http http://127.0.0.1")
    assert (http.status, http.category) == ("fail", Verdict.PROTOCOL_ERROR)
    assert "not an HTTP response" in http.detail


def test_tls_when_port_speaks_plain_http_then_tls_error(http_server):
    server = http_server()
    report = run_diagnostics(local_settings(server.url.replace("http://", "https://")))

    tls = check(report, "tls 127.0.0.1")
    assert (tls.status, tls.category) == ("fail", Verdict.TLS_ERROR)


def test_proxy_when_credentials_missing_then_407_proxy_error(auth_proxy, http_server):
    server = http_server()
    report = run_diagnostics(
        local_settings(server.url.replace("http://", "https://"), proxy=auth_proxy.url)
    )

    tunnel = check(report, "proxy 127.0.0.1")
    assert (tunnel.status, tunnel.category) == ("fail", Verdict.PROXY_ERROR)
    assert "407" in tunnel.detail
    assert auth_proxy.tunnels == []


def test_proxy_when_credentials_in_url_then_tunnel_opens_and_password_hidden(
    auth_proxy, http_server, ca, trusting
):
    from .helpers import server_context

    server = http_server(tls=server_context(ca, "127.0.0.1"))
    proxy = auth_proxy.url.replace("http://", "http://doctor:proxy-pass-1234@")
    report = run_diagnostics(local_settings(server.url, proxy=proxy), ssl_context=trusting)

    assert check(report, "proxy 127.0.0.1").status == "ok"
    assert check(report, "http https://127.0.0.1").status == "ok"
    # The probe's tunnel, then the credential check's: the client uses the proxy too.
    assert set(auth_proxy.tunnels) == {f"127.0.0.1:{server.port}"}
    assert "proxy-pass-1234" not in json.dumps(report.to_dict())


def test_tcp_when_one_of_two_addresses_refuses_then_warns_about_address_order(http_server):
    server = http_server()
    # The server listens on 127.0.0.1 only: ::1 (listed first, as resolvers do) refuses.
    resolver = {"pay.phonepe.invalid": ["::1", "127.0.0.1"]}
    report = run_diagnostics(
        local_settings(f"http://pay.phonepe.invalid:{server.port}"),
        resolver=lambda host, port: resolver[host],
    )

    tcp = check(report, "tcp pay.phonepe.invalid")
    assert (tcp.status, tcp.category) == ("warn", Verdict.CONNECTION_REFUSED)
    assert f"[::1]:{server.port} " in tcp.detail
    assert f"127.0.0.1:{server.port} connected" in tcp.detail
    assert "/etc/gai.conf" in tcp.remedy
    assert check(report, "http http://pay.phonepe.invalid").status == "ok"
    assert report.ok  # a warning is advice, not a failure
