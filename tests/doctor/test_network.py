"""Each connectivity category, produced for real on 127.0.0.1 and diagnosed."""

from __future__ import annotations

import json
import socket
import threading

from phonepe_gateway import Settings
from phonepe_gateway.doctor import Verdict, run_diagnostics

from .helpers import CANARY, check, local_settings, server_context


def no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_tcp_when_port_refused_then_connection_refused(refused_port):
    report = run_diagnostics(local_settings(f"http://127.0.0.1:{refused_port}/apis/pg-sandbox"))

    tcp = check(report, "tcp 127.0.0.1")
    assert (tcp.status, tcp.category) == ("fail", Verdict.CONNECTION_REFUSED)
    assert f"127.0.0.1:{refused_port} refused" in tcp.detail
    assert "phonepe sandbox" in tcp.remedy  # local env: the sandbox is not running
    assert not report.ok


def test_tcp_when_port_blackholed_then_connect_timeout(blackhole_port):
    report = run_diagnostics(local_settings(f"http://127.0.0.1:{blackhole_port}"))

    tcp = check(report, "tcp 127.0.0.1")
    assert (tcp.status, tcp.category) == ("fail", Verdict.CONNECT_TIMEOUT)
    assert "timed out" in tcp.detail


def test_run_when_every_endpoint_blackholed_then_each_times_out_and_nothing_else_runs(blackhole):
    urls = [f"http://127.0.0.1:{blackhole()}", f"http://127.0.0.1:{blackhole()}"]
    report = run_diagnostics(local_settings("http://127.0.0.1:8300"), base_urls=urls)

    timed_out = [c for c in report.checks if c.name.startswith("tcp ")]
    assert [c.category for c in timed_out] == [Verdict.CONNECT_TIMEOUT] * 2
    assert "every PhonePe host" not in timed_out[0].remedy  # local env: the sandbox advice
    assert check(report, "credentials").detail.startswith("not checked")
    assert check(report, "clock skew").detail.startswith("not measured")


def test_dns_when_name_does_not_resolve_then_dns_failure():
    settings = Settings.build(
        env="production",
        client_id="M-DOCTOR",
        client_secret=CANARY,
        base_urls=["https://pay.phonepe.invalid/apis/pg"],
    )
    report = run_diagnostics(settings, resolver=no_dns)

    dns = check(report, "dns pay.phonepe.invalid")
    assert (dns.status, dns.category) == ("fail", Verdict.DNS_FAILURE)
    assert "Name or service not known" in dns.detail
    assert "getent hosts pay.phonepe.invalid" in dns.remedy
    assert check(report, "credentials").status == "warn"  # nothing to check against
    assert CANARY not in json.dumps(report.to_dict())


def test_dns_when_resolver_hangs_then_dns_failure_after_connect_timeout():
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(10)
        return ["127.0.0.1"]

    try:
        report = run_diagnostics(
            local_settings("http://slow.phonepe.invalid:8300", connect_timeout=0.3),
            resolver=hanging,
        )
    finally:
        release.set()
    dns = check(report, "dns slow.phonepe.invalid")
    assert (dns.status, dns.category) == ("fail", Verdict.DNS_FAILURE)
    assert "did not answer" in dns.detail


def test_tcp_when_every_remote_host_refuses_then_remedy_names_hosts_port_and_proxy(refused_port):
    # The seed: DNS works, every PhonePe host refuses -> outbound port blocked here.
    settings = Settings.build(
        env="production",
        client_id="M-DOCTOR",
        client_secret=CANARY,
        base_urls=[f"https://api.phonepe.invalid:{refused_port}/apis/pg"],
        oauth_urls=[f"https://auth.phonepe.invalid:{refused_port}/apis/identity-manager"],
    )
    report = run_diagnostics(settings, resolver=lambda host, port: ["127.0.0.1"])

    assert check(report, "dns api.phonepe.invalid").status == "ok"
    for host in ("api", "auth"):
        tcp = check(report, f"tcp {host}.phonepe.invalid")
        assert tcp.category is Verdict.CONNECTION_REFUSED
        assert "hosting provider" in tcp.remedy
        assert f"api.phonepe.invalid:{refused_port}" in tcp.remedy
        assert f"auth.phonepe.invalid:{refused_port}" in tcp.remedy
        assert "PHONEPE_PROXY" in tcp.remedy
    assert CANARY not in json.dumps(report.to_dict())


def test_tls_when_certificate_untrusted_then_tls_error(http_server, ca):
    # The default trust store (certifi, as the client) does not know the test CA.
    server = http_server(tls=server_context(ca, "127.0.0.1"))
    report = run_diagnostics(local_settings(server.url))

    tls = check(report, "tls 127.0.0.1")
    assert (tls.status, tls.category) == ("fail", Verdict.TLS_ERROR)
    assert "not trusted" in tls.detail
    # The rejected certificate's issuer is named: this is how interception shows itself.
    assert "issued by 'trustme" in tls.detail
    assert "interception" in tls.remedy


def test_tls_when_ssl_cert_file_names_the_ca_then_trusted_as_the_client_trusts_it(
    phonepe_answers, ca, tmp_path, monkeypatch
):
    # The client's transport honours SSL_CERT_FILE (httpx's default context); so must the probe.
    bundle = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    server = phonepe_answers(404, {"code": "ORDER_NOT_FOUND"}, tls=server_context(ca, "127.0.0.1"))
    report = run_diagnostics(local_settings(server.url))

    tls = check(report, "tls 127.0.0.1")
    assert tls.status == "ok", tls.detail
    # The client, built as the application builds it, trusted the same CA.
    assert check(report, "credentials").status == "ok"
    assert report.ok


def test_tls_when_hostname_does_not_match_then_tls_error(http_server, ca, trusting):
    server = http_server(tls=server_context(ca, "somewhere-else.example"))
    report = run_diagnostics(local_settings(server.url), ssl_context=trusting)

    tls = check(report, "tls 127.0.0.1")
    assert (tls.status, tls.category) == ("fail", Verdict.TLS_ERROR)
    assert "not valid for 127.0.0.1" in tls.detail
    assert "it presented a certificate" in tls.detail


def test_tls_when_certificate_trusted_then_describes_it(http_server, ca, trusting):
    server = http_server(tls=server_context(ca, "127.0.0.1"))
    report = run_diagnostics(local_settings(server.url), ssl_context=trusting)

    tls = check(report, "tls 127.0.0.1")
    assert tls.status == "ok", tls.detail
    assert "TLSv1." in tls.detail
    assert "host name matches" in tls.detail
    assert check(report, "http https://127.0.0.1").status == "ok"


def test_proxy_when_proxy_refuses_then_proxy_error(refused_port, http_server):
    server = http_server()
    proxy = f"http://doctor:{CANARY}@127.0.0.1:{refused_port}"
    report = run_diagnostics(local_settings(server.url, proxy=proxy))

    hop = check(report, f"tcp 127.0.0.1:{refused_port}")
    assert (hop.status, hop.category) == ("fail", Verdict.PROXY_ERROR)
    assert "PHONEPE_PROXY" in hop.remedy
    assert server.requests == []  # nothing went around the proxy
    assert CANARY not in json.dumps(report.to_dict())


def test_proxy_when_connect_proxy_works_then_connection_goes_through_it(
    http_server, connect_proxy, ca, trusting
):
    server = http_server(tls=server_context(ca, "127.0.0.1"))
    report = run_diagnostics(
        local_settings(server.url, proxy=connect_proxy.url), ssl_context=trusting
    )

    tunnel = check(report, "proxy 127.0.0.1")
    assert tunnel.status == "ok", tunnel.detail
    assert f"tunnel to 127.0.0.1:{server.port} open through the proxy" in tunnel.detail
    assert f"127.0.0.1:{server.port}" in connect_proxy.tunnels
    assert check(report, "tls 127.0.0.1").status == "ok"
    assert check(report, "http https://127.0.0.1").status == "ok"
    assert f"via {connect_proxy.url}" in check(report, "proxy settings").detail


def test_proxy_when_proxy_refuses_tunnel_then_proxy_error(connect_proxy, refused_port):
    report = run_diagnostics(
        local_settings(f"https://127.0.0.1:{refused_port}", proxy=connect_proxy.url)
    )

    tunnel = check(report, "proxy 127.0.0.1")
    assert (tunnel.status, tunnel.category) == ("fail", Verdict.PROXY_ERROR)
    assert "502" in tunnel.detail


def test_clock_when_server_date_ten_minutes_ahead_then_fails(http_server):
    server = http_server(skew=600)
    report = run_diagnostics(local_settings(server.url))

    clock = check(report, "clock skew")
    assert (clock.status, clock.category) == ("fail", Verdict.CLOCK_SKEW)
    assert "behind" in clock.detail
    assert "NTP" in clock.remedy


def test_clock_when_server_date_a_minute_behind_then_warns(http_server):
    server = http_server(skew=-60)
    report = run_diagnostics(local_settings(server.url))

    clock = check(report, "clock skew")
    assert (clock.status, clock.category) == ("warn", Verdict.CLOCK_SKEW)
    assert "ahead of" in clock.detail


def test_clock_when_server_date_agrees_then_ok(http_server):
    server = http_server()
    report = run_diagnostics(local_settings(server.url))

    assert check(report, "clock skew").status == "ok"
    assert check(report, "http http://127.0.0.1").status == "ok"


def test_tcp_when_every_remote_host_drops_packets_then_remedy_says_filtered(blackhole):
    port = blackhole()
    settings = Settings.build(
        env="sandbox",
        client_id="M-DOCTOR",
        client_secret=CANARY,
        base_urls=[f"https://api.phonepe.invalid:{port}/apis/pg-sandbox"],
        connect_timeout=1.0,
    )
    report = run_diagnostics(settings, resolver=lambda host, port: ["127.0.0.1"])

    tcp = check(report, "tcp api.phonepe.invalid")
    assert (tcp.status, tcp.category) == ("fail", Verdict.CONNECT_TIMEOUT)
    assert "Packets to every PhonePe endpoint are dropped" in tcp.remedy
    assert f"nc -vz api.phonepe.invalid {port}" in tcp.remedy
    assert "PHONEPE_PROXY" in tcp.remedy
