"""Security headers: CSP with no inline script, Referrer-Policy,
Permissions-Policy, no server banner (Django's or gunicorn's); templates
carry no inline script, handler or style the policy would block."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "chanrong" / "templates", *ROOT.glob("chanrong/*/templates")]


def _directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        name, *values = part.split()
        result[name] = values
    return result


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/regions", "/api/v1/docs"])
def test_every_answer_carries_the_policy_and_no_banner(path):
    response = Client().get(path)
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in response and "X-Powered-By" not in response


def _templates():
    for directory in TEMPLATE_DIRS:
        yield from directory.rglob("*.html")


SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)


def test_templates_hold_no_inline_script_handler_or_style():
    problems = []
    for template in _templates():
        source = template.read_text(encoding="utf-8")
        name = template.relative_to(ROOT)
        for match in SCRIPT.finditer(source):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                problems.append(f"{name}: inline <script{attrs}>")
        if HANDLER.search(source):
            problems.append(f"{name}: an on…= event handler")
        if STYLE_ATTR.search(source):
            problems.append(f"{name}: a style= attribute")
        if re.search(r"<style\b", source, re.IGNORECASE):
            problems.append(f"{name}: a <style> block")
        if "javascript:" in source.lower():
            problems.append(f"{name}: a javascript: URL")
    assert problems == []


def test_the_template_scan_finds_what_it_looks_for():
    """The scan above is only worth something if it catches each kind."""
    bad = (
        "<script>alert(1)</script>",
        '<a href="#" onclick="x()">',
        '<div style="color:red">',
        "<style>p{}</style>",
        '<a href="javascript:x()">',
    )
    assert SCRIPT.search(bad[0]) and "src=" not in SCRIPT.search(bad[0]).group(1)
    assert HANDLER.search(bad[1]) and STYLE_ATTR.search(bad[2])
    assert re.search(r"<style\b", bad[3]) and "javascript:" in bad[4].lower()
    # json_script data blocks and external scripts are allowed by the scan.
    data_block = SCRIPT.search('<script id="x" type="application/json">').group(1)
    assert 'type="application/json"' in data_block
    assert not HANDLER.search('<p class="note" data-once="1">')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_sends_no_server_banner(tmp_path):
    """A real gunicorn with chanrong/gunicorn.conf.py: no `Server:` line."""
    port = _free_port()
    env = {
        **os.environ,
        "CHANRONG_VAR_DIR": str(tmp_path),
        "CHANRONG_PORT": str(port),
        "CHANRONG_WORKERS": "1",
        "CHANRONG_THREADS": "1",
        "CHANRONG_PLAIN_STATIC": "1",
        "CHANRONG_GUNICORN_LOG_LEVEL": "warning",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "chanrong" / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        headers = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health") as answer:
                    headers = answer.headers
            except urllib.error.HTTPError as answer:
                headers = answer.headers
            except OSError:
                if process.poll() is not None:
                    pytest.fail(process.stderr.read().decode())
                time.sleep(0.1)
                continue
            break
        assert headers is not None, "gunicorn did not answer"
        assert headers.get("Server") is None
        assert headers.get("Content-Security-Policy")
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown (TERM waits for graceful_timeout)
        process.wait(timeout=30)
