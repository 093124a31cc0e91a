"""Refuse callback URLs that point inside our own network (SSRF), unless allowed by settings."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class CallbackAddressError(ValueError):
    pass


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
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise CallbackAddressError(f"callback_url host {parts.hostname!r} is a private or local address")
