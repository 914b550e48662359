"""The platform must work on an intranet with no internet: no page, template
or stylesheet may refer to another host (no CDN, no web font, no tracker)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parents[2] / "chanrong"
LOCAL_HOSTS = {"testserver", "localhost", "127.0.0.1"}
# XML namespaces are identifiers (inline SVG's xmlns), never fetched.
NAMESPACES = {
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/1999/xhtml",
}
# Likewise inside vendored libraries, plus the licence texts' own addresses.
VENDOR_IDENTIFIERS = NAMESPACES | {
    "http://www.apache.org/licenses/LICENSE-2.0",
    "https://github.com/ecomfe/zrender/blob/master/LICENSE",
}
ABSOLUTE = re.compile(r"https?://[^\s\"'<>)]+")


def foreign_urls(text: str) -> list[str]:
    found = []
    for match in ABSOLUTE.finditer(text):
        host = match.group(0).split("/")[2].split(":")[0]
        if host not in LOCAL_HOSTS and match.group(0) not in NAMESPACES:
            found.append(match.group(0))
    # Protocol-relative references ("//cdn.example.com/x.js") in attributes or CSS.
    for match in re.finditer(r"""(?:src|href|action)=["']//|url\(\s*["']?//""", text):
        found.append(text[match.start() : match.start() + 80])
    return found


def _pages(world) -> list[tuple[str, str]]:
    ent, ent_js = world.ent, world.ent_js
    pages = [
        ("admin", "/"),
        ("admin", "/enterprises/"),
        ("admin", f"/enterprises/{ent_js.pk}/"),
        ("admin", f"/enterprises/{ent_js.pk}/edit/"),
        ("admin", "/enterprises/new/"),
        ("admin", "/institutions/"),
        ("admin", "/admin/"),
        ("admin", "/admin/registry/enterprise/"),
        ("gov_jiashan", "/"),
        ("gov_jiashan", "/enterprises/?province=330000"),
        ("gov_jiashan", "/enterprises/region-fields/?province=330000&mode=form"),
        ("bank_manager", "/"),
        ("ent_user", "/"),
        ("ent_user", f"/enterprises/{ent.pk}/"),
        ("ent_user", "/no-such-page/"),
    ]
    optional = (
        ("accounts:tokens", "bank_manager"),
        ("accounts:password_change", "ent_user"),
    )
    for name, username in optional:
        with contextlib.suppress(NoReverseMatch):
            pages.append((username, reverse(name)))
    return pages


def test_rendered_pages_refer_to_no_other_host(world, login, client):
    offenders = {}
    login_page = client.get("/accounts/login/")
    assert login_page.status_code == 200
    if urls := foreign_urls(login_page.content.decode()):
        offenders["/accounts/login/"] = urls
    clients = {}
    for username, url in _pages(world):
        clients.setdefault(username, login(username))
        response = clients[username].get(url)
        assert response.status_code in (200, 404), (username, url, response.status_code)
        if urls := foreign_urls(response.content.decode()):
            offenders[url] = urls
    assert offenders == {}


def test_templates_and_own_static_files_refer_to_no_other_host():
    """Every app's templates/ and static/ folders (the vendored libraries aside)."""
    offenders = {}
    for path in PACKAGE.rglob("*"):
        parts = path.relative_to(PACKAGE).parts
        if not path.is_file() or "vendor" in parts or "__pycache__" in parts:
            continue
        if not ({"templates", "static"} & set(parts)):
            continue
        if path.suffix not in {".html", ".css", ".js", ".txt", ".svg", ".json"}:
            continue
        if urls := foreign_urls(path.read_text(encoding="utf-8", errors="replace")):
            offenders[str(path.relative_to(PACKAGE))] = urls
    assert offenders == {}


def test_vendored_libraries_fetch_nothing_from_other_hosts():
    vendor = PACKAGE / "static" / "vendor"
    if not vendor.exists():
        pytest.skip("chanrong/static/vendor not built (run npm ci && scripts/build-static)")
    offenders = {}
    for path in vendor.rglob("*.js"):
        text = path.read_text(encoding="utf-8", errors="replace")
        unexpected = sorted(set(ABSOLUTE.findall(text)) - VENDOR_IDENTIFIERS)
        if unexpected:
            offenders[str(path.relative_to(vendor))] = unexpected
    assert offenders == {}


def test_vendor_files_used_by_templates_are_built():
    vendor = PACKAGE / "static" / "vendor"
    if not vendor.exists():
        pytest.skip("chanrong/static/vendor not built (run npm ci && scripts/build-static)")
    for name in ("htmx/htmx.min.js", "echarts/echarts.min.js"):
        assert (vendor / name).is_file(), name
