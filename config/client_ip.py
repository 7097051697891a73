"""The client's IP address, trusting `X-Forwarded-For` only as far as our own proxies wrote it.

Anyone can send an `X-Forwarded-For` header, so a rate limit keyed on its first entry can be
escaped with a new value on every request. Only a proxy listed in `TRUSTED_PROXIES` (IPs or
networks) is believed: when the peer (`REMOTE_ADDR`) is one, the header is read from the
right, where each trusted proxy appended the address it was connected from, and the first
address that is not a trusted proxy is the client. Entries left of it were written by the
client and are ignored. Without trusted proxies the peer is the client, header or not.
"""

import functools
import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["client_ip", "trusted_networks"]


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` entries ("10.0.0.1", "10.0.0.0/8", "::1") as networks."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from error
    return tuple(networks)


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return trusted_networks(entries)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request: "HttpRequest") -> str:
    """The address rate limits and login lockouts count against."""
    peer = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(_address(peer), networks):
        return peer
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: the last trusted hop is all we know
        client = str(address)
        if not _trusted(address, networks):
            break
    return client
