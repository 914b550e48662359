"""Mutual TLS (双向认证) for bank systems: docs/deploy/nginx-mtls.conf, as
shipped, run by a real nginx in front of the live server.

The sample's paths and ports are replaced by this test's (certificates made
by docs/deploy/mtls-test-certs.sh, free ports, the live server as upstream);
nothing else in it is changed. Needs nginx with the njs module (Debian:
nginx-light and libnginx-mod-http-js; scripts/test installs them): skipped
where they are absent, which on CI is a failure (tests/suite_guard.py).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from chanrong.accounts import services as accounts

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
JS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Argon2 is deliberately slow; the `world` fixture hashes eleven passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not (os.path.exists(NGINX) and JS_MODULE.exists()):
        pytest.skip(
            "nginx with the njs module not installed (apt-get install nginx-light libnginx-mod-http-js)"
        )
    where = tmp_path_factory.mktemp("mtls")
    made = subprocess.run(  # noqa: S603
        [str(DEPLOY / "mtls-test-certs.sh"), str(where / "certs"), "某银行信贷系统"],
        capture_output=True,
        text=True,
        check=True,
    )
    fingerprint = made.stdout.strip().splitlines()[-1]
    # A second client, signed by another CA: must be refused.
    subprocess.run(  # noqa: S603
        [str(DEPLOY / "mtls-test-certs.sh"), str(where / "other")], capture_output=True, check=True
    )
    return where, fingerprint


@pytest.fixture
def nginx(certs, live_server, settings):
    """nginx running the sample config; yields (bank port, ordinary port, paths)."""
    where, _fingerprint = certs
    bank_port, plain_port = _free_port(), _free_port()
    upstream = live_server.url.removeprefix("http://")
    conf = (DEPLOY / "nginx-mtls.conf").read_text()
    for old, new in (
        ("/etc/chanrong/mtls/", f"{where / 'certs'}/"),
        ("/etc/chanrong/nginx-mtls.js", str(DEPLOY / "nginx-mtls.js")),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 8443 ssl;", f"listen 127.0.0.1:{bank_port} ssl;"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{plain_port} ssl;"),
    ):
        assert old in conf, old  # the sample still has what this test adapts
        conf = conf.replace(old, new)
    run = where / f"run-{bank_port}"
    run.mkdir()
    (run / "site.conf").write_text(conf)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{name}_temp_path {run / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (run / "nginx.conf").write_text(
        f"load_module {JS_MODULE};\n{user}worker_processes 1;\npid {run / 'nginx.pid'};\n"
        f"error_log {run / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{ access_log off; {temp} include {run / 'site.conf'}; }}\n"
    )
    checked = subprocess.run(  # noqa: S603
        [NGINX, "-t", "-p", str(run), "-c", str(run / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    settings.CHANRONG_MTLS_TRUSTED_PROXY = True  # the live server runs in this process
    proc = subprocess.Popen(  # noqa: S603
        [NGINX, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(bank_port, proc)
        _wait_for(plain_port, proc)
        yield bank_port, plain_port, where
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _get(port: int, path: str, where: Path, *, client: str | None, headers=None):
    context = ssl.create_default_context(cafile=str(where / "certs" / "ca.crt"))
    if client:
        context.load_cert_chain(f"{where / client}.crt", f"{where / client}.key")
    conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_bank_api_needs_the_client_certificate_and_the_app_sees_its_fingerprint(
    world, certs, nginx
):
    where, fingerprint = certs
    bank_port, plain_port, _ = nginx
    bound = accounts.create_token(
        None, world.user("bank_staff"), "信贷系统", client_cert_sha256=fingerprint
    ).raw
    other = accounts.create_token(
        None, world.user("bank_staff"), "另一证书", client_cert_sha256="ab" * 32
    ).raw
    path = "/api/v1/enterprises"

    # No client certificate: refused by nginx, nothing reaches the platform.
    status, body = _get(bank_port, path, where, client=None)
    assert status == 400 and "No required SSL certificate was sent" in body
    # A certificate from another CA: refused too.
    status, body = _get(bank_port, path, where, client="other/client")
    assert status == 400 and "certificate" in body.lower()

    # With the certificate: the app gets X-SSL-Client-Verify SUCCESS and the
    # SHA-256 fingerprint, and the token bound to exactly that one works ...
    auth = {"Authorization": f"Bearer {bound}"}
    status, body = _get(bank_port, path, where, client="certs/client", headers=auth)
    assert status == 200, body
    # ... while a token bound to another certificate does not.
    status, _body = _get(
        bank_port, path, where, client="certs/client", headers={"Authorization": f"Bearer {other}"}
    )
    assert status == 401
    # Only /api/v1 is served on the bank endpoint.
    status, _body = _get(bank_port, "/", where, client="certs/client")
    assert status == 404

    # The ordinary server replaces forged headers: the bound token fails there.
    forged = {
        **auth,
        "X-SSL-Client-Verify": "SUCCESS",
        "X-SSL-Client-Fingerprint": fingerprint,
        "X-SSL-Client-S-DN": "CN=bank-system,O=forged",
    }
    status, _body = _get(plain_port, path, where, client=None, headers=forged)
    assert status == 401
