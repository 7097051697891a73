"""POSTing a webhook to an endpoint without letting the URL reach inside the network (SSRF).

The host is resolved once, every address it resolves to must be public (not loopback, private,
link-local, shared, reserved or multicast; IPv4-mapped IPv6 counts as its IPv4), and the request
is then made to that checked address — with the URL's host in `Host` and, over TLS, in SNI and
the certificate check — so a DNS answer that changes between the check and the connection
(rebinding) cannot redirect it. Redirects are not followed. `TAILOR_WEBHOOK_ALLOW_PRIVATE`
allows private and loopback addresses (a receiver on the same network; the test suite).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from config.errors import ApplicationError

EXCERPT_BYTES = 500
USER_AGENT = "Tailor-Webhooks/1"


class UnsafeEndpoint(ApplicationError):
    """A URL Tailor will not send to: not http(s), credentials in it, or a non-public address."""


@dataclass(frozen=True)
class Answer:
    """What one request got: a status (None when none came back) or the error, and timing."""

    status: int | None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    seconds: float = 0.0


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def url_resolve(url: str) -> list[str]:
    """The addresses `url` may be sent to; UnsafeEndpoint says why when there are none."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeEndpoint("the URL must start with http:// or https:// and name a host")
    if parts.username or parts.password:
        raise UnsafeEndpoint("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise UnsafeEndpoint(f"{parts.hostname} cannot be resolved: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.TAILOR_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise UnsafeEndpoint(
                    f"{parts.hostname} resolves to {address}, a private or local address "
                    "(TAILOR_WEBHOOK_ALLOW_PRIVATE allows those)"
                )
    return addresses


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not worth parsing, the backoff decides
        return None


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` at a checked address; never raises for network failures."""
    started = time.perf_counter()
    parts = urlsplit(url)
    address = url_resolve(url)[0]
    port = parts.port or (443 if parts.scheme == "https" else 80)
    options = {
        "timeout": urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
        "retries": False,
    }
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=parts.hostname, assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED", **options,
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {
        **headers, "Host": parts.netloc, "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }  # fmt: skip
    try:
        with pool:
            response = pool.urlopen(
                "POST", path, body=body, headers=sent, redirect=False, preload_content=False
            )
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        reason = "timed out" if isinstance(exc, urllib3.exceptions.TimeoutError) else str(exc)
        return Answer(None, error=reason[:300], seconds=time.perf_counter() - started)
    retry_after = _retry_after(response.headers.get("Retry-After"))
    seconds = time.perf_counter() - started
    return Answer(response.status, excerpt=excerpt, retry_after=retry_after, seconds=seconds)
