"""Where this deployment may send requests (SSRF guard, issue 19).

A peer's address is typed by an admin (the parent's) or handed over by
another deployment (a child's, at registration), and this deployment then
POSTs to it and pulls from it. Without a check that address could be the
cloud metadata service (169.254.169.254), this machine's own loopback
services, or anything else the server can reach and the admin cannot.

Refused: schemes other than http and https, credentials in the URL, and any
host that resolves — to *any* of its addresses — to loopback (127.0.0.0/8,
::1; allowed only with CHANRONG_EXCHANGE_ALLOW_LOOPBACK, which the two-server
tests set), link-local (169.254.0.0/16 incl. metadata, fe80::/10),
unspecified (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8) or the
broadcast address. IPv4-mapped IPv6 addresses are judged as their IPv4
address. Private RFC 1918 ranges stay allowed: government extranets
(电子政务外网) use them.

The check runs twice: when the address is registered (a field error) and
at every connection (a refusal the caller logs). The second is what stops
DNS rebinding: `session()` gives a requests session whose connections
resolve the host themselves, check every address of the answer, and connect
only to the checked addresses — the name is never resolved again between
check and connect. Redirects are never followed (a 3xx is an answer, not a
new destination), and proxies from the environment are not used (the proxy
would be the only address checked).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

UNSPECIFIED_V4 = ipaddress.ip_network("0.0.0.0/8")
BROADCAST_V4 = ipaddress.ip_address("255.255.255.255")


class UnsafeURL(ValueError):
    """The address may not be sent to; `reason` says why (for the log)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def loopback_allowed() -> bool:
    return bool(getattr(settings, "CHANRONG_EXCHANGE_ALLOW_LOOPBACK", False))


def blocked(address: str) -> str | None:
    """Why an IP address is refused, or None when it may be used."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if loopback_allowed() else f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is link-local (cloud metadata lives there)"
    if ip.is_unspecified or (ip.version == 4 and ip in UNSPECIFIED_V4):
        return f"{ip} is unspecified"
    if ip.is_multicast:
        return f"{ip} is multicast"
    if ip == BROADCAST_V4:
        return f"{ip} is the broadcast address"
    return None


def split(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; UnsafeURL for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURL("not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("only http:// and https:// addresses are allowed")
    if parts.username or parts.password:
        raise UnsafeURL("the address may not carry a user name or password")
    if not parts.hostname:
        raise UnsafeURL("the address has no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[tuple]:
    """Every address `host` resolves to, each checked; UnsafeURL if any is
    refused (a name that answers with one good and one bad address is a
    rebinding attempt, not a choice) or if it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"{host} does not resolve: {exc}") from None
    if not infos:
        raise UnsafeURL(f"{host} does not resolve")
    for info in infos:
        reason = blocked(info[4][0])
        if reason:
            raise UnsafeURL(f"{host}: {reason}")
    return infos


def check(url: str) -> None:
    """The registration-time check: scheme, form, and every address now."""
    resolve(*split(url))


class _Guarded:
    """Mixed into urllib3's connections: resolve, check, connect to the
    checked addresses only."""

    def _new_conn(self) -> socket.socket:
        infos = resolve(self._dns_host, self.port)  # type: ignore[attr-defined]
        error: OSError | None = None
        for family, kind, proto, _name, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)  # type: ignore[attr-defined]
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


class _Session(requests.Session):
    def request(self, method, url, *args, **kwargs):
        kwargs["allow_redirects"] = False  # whatever the caller says
        return super().request(method, url, *args, **kwargs)


def session() -> requests.Session:
    """A session for talking to peers: checked connections, no redirects
    followed, no proxies from the environment."""
    http = _Session()
    http.trust_env = False
    http.mount("http://", _GuardedAdapter())
    http.mount("https://", _GuardedAdapter())
    return http


def post(url: str, **kwargs) -> requests.Response:
    """One guarded POST (redirects not followed). Raises UnsafeURL before
    any byte is sent to a refused address."""
    split(url)
    kwargs["allow_redirects"] = False
    with session() as http:
        return http.post(url, **kwargs)
