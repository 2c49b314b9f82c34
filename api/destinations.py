"""Where webhooks may be sent, and sending there: public HTTPS addresses only.

An endpoint's URL is typed by a customer but fetched by our servers, so it must not reach our
own network (the cloud's metadata address, the database, Redis). The URL is checked when saved;
before each delivery its host is resolved once, every address checked, and the connection made
to the address that was checked (TLS still verifies the host name), so a name that resolves to
a public address for the check and a private one for the connection (DNS rebinding) reaches
nothing. Settings open plain HTTP and private addresses for development and tests.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

# IPv6 prefixes that carry an IPv4 address (NAT64, 6to4, IPv4-compatible, IPv4-translated):
# what they reach cannot be told from the address, so they are refused.
TRANSLATED = [
    ipaddress.ip_network(net)
    for net in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "::ffff:0:0:0/96")
]


class UnsafeDestination(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


def url_problem(url: str) -> str:
    """Why webhooks cannot be sent to this URL, or ""."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Enter a full URL, like https://example.com/hooks/capacity."
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        return "The port must be a number from 1 to 65535."
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


def resolve(url: str) -> list[str]:
    """The addresses to connect to for the URL's host, in the resolver's order;
    UnsafeDestination unless every one is public (or private networks are allowed)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise UnsafeDestination(f"The host name does not resolve: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        for address in addresses:
            if not _public(address):
                raise UnsafeDestination(f"The host resolves to a private address ({address}).")
    return [str(address) for address in addresses]


def post(
    url: str, body: bytes, headers: dict, *, connect_timeout: float, total_timeout: float
) -> int:
    """POST to the URL's host at an address `resolve` checked, within `total_timeout` seconds
    however slowly the receiver answers; the response's status code. Redirects are not
    followed. Raises OSError or http.client.HTTPException when there is no answer."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    sock = _connect(resolve(url), port, connect_timeout)
    cutter = _Cutter(sock)
    # A receiver trickling its answer byte by byte still ends here.
    deadline = threading.Timer(total_timeout, cutter.cut)
    deadline.start()
    try:
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
            cutter.sock = sock
        sock.settimeout(total_timeout)
        connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
        connection = connection_class(parts.hostname, port)
        connection.sock = sock
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    finally:
        deadline.cancel()
        sock.close()
    if cutter.done:
        raise TimeoutError(f"No whole answer within {total_timeout:g} s.")
    return status


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the addresses that answers (say, IPv4 when IPv6 is
    broken), as a browser would."""
    failure: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            failure = error
    raise failure or OSError("The host has no address.")


class _Cutter:
    """Ends a connection from another thread when its time is up, and says it did."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.done = False

    def cut(self) -> None:
        self.done = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            address = address.ipv4_mapped
        elif any(address in network for network in TRANSLATED):
            return False
    return address.is_global and not address.is_multicast
