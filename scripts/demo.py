"""`make demo`: the local PhonePe sandbox and the Smart Parking example, one Ctrl-C stops both.

Migrates the demo database (.demo/parking.sqlite3), loads demo car parks and a staff user,
starts ``phonepe sandbox`` (webhooks -> the site's /api/webhooks/phonepe) and the site with
the reconciler, runs a few real demo payments through them (DEMO_TRAFFIC=0 skips that),
prints the URLs and waits. Ctrl-C, SIGTERM, or either child dying stops
everything. Ports: DEMO_PORT (8000), SANDBOX_PORT (8300). Never contacts anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "examples" / "parking"
STATE = ROOT / ".demo"
HOST = "127.0.0.1"
STAFF_USER, STAFF_PASSWORD = "staff", "parking-demo"
WEBHOOK_USER, WEBHOOK_PASSWORD = "sandboxhook", "sandboxpass1"


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        sys.exit(f"make demo: {name}={value!r} is not a port number")
    return int(value)


def _env(site_port: int, sandbox_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "parking.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SITE), env.get("PYTHONPATH")])),
            "PARKING_DB_PATH": str(STATE / "parking.sqlite3"),
            "PHONEPE_ENV": "local",
            "PHONEPE_LOCAL_URL": f"http://{HOST}:{sandbox_port}",
            "PHONEPE_WEBHOOK_USERNAME": WEBHOOK_USER,
            "PHONEPE_WEBHOOK_PASSWORD": WEBHOOK_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(SITE / "manage.py"), *args], env=env, check=True)  # noqa: S603 (our own fixed commands)


def _phonepe_command() -> list[str]:
    script = Path(sys.executable).with_name("phonepe")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from phonepe_gateway.cli import main; main()"]


def _wait_until_up(url: str, child: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{url} did not start (exit code {child.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback only)
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within the time limit")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def main() -> int:
    site_port, sandbox_port = _port("DEMO_PORT", 8000), _port("SANDBOX_PORT", 8300)
    for port in (site_port, sandbox_port):
        if not _port_free(port):
            print(
                f"make demo: port {port} is in use. Set DEMO_PORT / SANDBOX_PORT.", file=sys.stderr
            )
            return 1
    STATE.mkdir(exist_ok=True)
    (STATE / ".gitignore").write_text("*\n")  # the demo database is not source
    env = _env(site_port, sandbox_port)
    print("Preparing the demo database ...", flush=True)
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "load_demo", "--username", STAFF_USER, "--password", STAFF_PASSWORD)

    site_url, sandbox_url = f"http://{HOST}:{site_port}", f"http://{HOST}:{sandbox_port}"
    children: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        # Own process groups: the terminal's Ctrl-C reaches only us; we stop them in order.
        children.append(
            subprocess.Popen(  # noqa: S603 (our own fixed commands)
                [
                    *_phonepe_command(),
                    "sandbox",
                    "--host",
                    HOST,
                    "--port",
                    str(sandbox_port),
                    "--webhook-url",
                    f"{site_url}/api/webhooks/phonepe",
                    "--webhook-username",
                    WEBHOOK_USER,
                    "--webhook-password",
                    WEBHOOK_PASSWORD,
                ],
                env=env,
                start_new_session=True,
            )
        )
        children.append(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    str(SITE / "manage.py"),
                    "parking_serve",
                    "--host",
                    HOST,
                    "--port",
                    str(site_port),
                ],
                env=env,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 60
        _wait_until_up(f"{sandbox_url}/_sandbox/orders", children[0], deadline)
        _wait_until_up(f"{site_url}/", children[1], deadline)
        if os.environ.get("DEMO_TRAFFIC", "1") != "0":
            try:
                _manage(env, "demo_traffic", "--sandbox-url", sandbox_url, "--site-url", site_url)
            except subprocess.CalledProcessError:
                print("make demo: could not run the demo payments; continuing.", file=sys.stderr)
        print(
            f"""
  Smart Parking is running.

    Drivers        {site_url}/
    Pay at once    {site_url}/lots/demo-pay-at-once/   (demo only: no free minutes; try MH 12 AB 1234)
    Staff          {site_url}/staff/   (username {STAFF_USER}, password {STAFF_PASSWORD})
    Dashboard      {site_url}/staff/dashboard/
    Payments API   {site_url}/api/docs
    Sandbox        {sandbox_url}/_sandbox/orders  (the PhonePe simulator; checkout pages open from the site)

  Press Ctrl-C to stop.
""",
            flush=True,
        )
        while True:
            for child in children:
                if child.poll() is not None:
                    print(
                        f"make demo: a process exited (code {child.returncode}); stopping.",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except _Stop:
        print("\nStopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop(children)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
