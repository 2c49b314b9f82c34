"""Where webhooks may be sent: public HTTPS addresses only.

An endpoint's URL is typed by a customer but fetched by our servers, so it must not reach
our own network (the cloud's metadata address, the database, Redis). The URL is checked when
saved, and every address its host resolves to is checked again before each delivery (a name
can be pointed elsewhere later). Settings open plain HTTP and private addresses for
development and tests.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def url_problem(url: str) -> str:
    """Why webhooks cannot be sent to this URL, or ""."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Enter a full URL, like https://example.com/hooks/capacity."
    parts = urlsplit(url)
    if parts.scheme != "https" and not settings.WEBHOOKS_ALLOW_HTTP:
        return "Use an https:// URL: events carry your contacts' numbers."
    if parts.username or parts.password:
        return "Leave credentials out of the URL; verify our signature instead."
    try:
        address = ipaddress.ip_address((parts.hostname or "").strip("[]"))
    except ValueError:
        return ""
    if not _public(address) and not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        return "This address is private or reserved; use a public one."
    return ""


def check_destination(url: str) -> None:
    """Raise UnsafeDestination unless every address the URL's host resolves to is public."""
    if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeDestination(f"The host name does not resolve: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _public(address):
            raise UnsafeDestination(f"The host resolves to a private address ({address}).")


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
