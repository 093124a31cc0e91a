"""Refuse callback URLs that point inside our own network (SSRF), unless allowed by settings."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class CallbackAddressError(ValueError):
    pass


# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it through a translator
# (NAT64, RFC 6052 / RFC 8215): 64:ff9b::10.0.0.1 is 10.0.0.1 to the network.
_TRANSLATED_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _effective(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address and every IPv4 address it stands for (mapped, 6to4, Teredo, NAT64)."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if any(address in prefix for prefix in _TRANSLATED_PREFIXES):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        found += [a for a in embedded if a is not None]
    return found


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return all(a.is_global for a in _effective(address))


def check_callback_url(url: str, *, allow_private: bool) -> None:
    """Raise CallbackAddressError when the URL's host resolves to a private or local address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackAddressError("callback_url must be an http(s) URL with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise CallbackAddressError(f"callback_url host {parts.hostname!r} does not resolve") from exc
    for info in infos:
        if not is_public(ipaddress.ip_address(info[4][0])):
            raise CallbackAddressError(f"callback_url host {parts.hostname!r} is a private or local address")
