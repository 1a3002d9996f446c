"""Where a webhook may go (SSRF guard; docs/webhooks.md).

An endpoint URL is `https://` in production (`http://` also in development), with a host and
no credentials. At delivery time its host is resolved, every address it resolves to must be a
public one (not loopback, private, link-local, CGNAT, multicast, or reserved, also when wrapped
in IPv6: mapped, NAT64, 6to4, Teredo) unless it lies in `webhooks.allow_networks`, and the
request is sent to the address that was checked (the Host header and TLS name stay the URL's),
so a DNS answer that changes between the check and the connection cannot redirect it.
Redirects are never followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from keyturn.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UrlNotAllowed(Invalid):
    """The webhook URL is not one keyturn may send to (scheme, credentials, or address)."""

    code = "webhook.url_not_allowed"


class TargetRefused(Exception):
    """The URL's host resolves to an address webhooks may not reach (or does not resolve)."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL  # the checked address in place of the host
    host_header: str
    extensions: dict[str, Any]


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def allowed(address: IPAddress, allow_networks: Sequence[Network]) -> bool:
    if any(address in network for network in allow_networks):
        return True
    inner = _embedded_ipv4(address)
    if inner is not None and not allowed(inner, allow_networks):
        return False
    return address.is_global and not address.is_multicast


def check_url(url: str, *, production: bool, allow_networks: Sequence[Network]) -> str:
    """The URL if webhooks may be configured to it; raises UrlNotAllowed. Host names are
    checked again, resolved, at every delivery."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise UrlNotAllowed("This is not a valid URL.") from None
    schemes = ("https",) if production else ("https", "http")
    if parsed.scheme not in schemes:
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        raise UrlNotAllowed(f"Webhook URLs must start with {starts}.")
    if not parsed.host:
        raise UrlNotAllowed("The URL has no host.")
    if parsed.userinfo:
        raise UrlNotAllowed("No credentials in the URL: receivers verify the signature instead.")
    if parsed.fragment:
        raise UrlNotAllowed("A webhook URL has no #fragment.")
    host = parsed.host.lower().rstrip(".")
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    local_name = host == "localhost" or host.endswith(".localhost")
    loopback_allowed = any(ipaddress.ip_address("127.0.0.1") in n for n in allow_networks)
    if (literal is not None and not allowed(literal, allow_networks)) or (
        local_name and not loopback_allowed
    ):
        raise UrlNotAllowed("Webhooks may not be sent to local, private or reserved addresses.")
    return str(parsed)


async def resolve(url: str, *, allow_networks: Sequence[Network]) -> Target:
    """The address to send to, after checking every address the host resolves to."""
    parsed = httpx.URL(url)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise TargetRefused("host does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise TargetRefused("host does not resolve")
    refused = [a for a in addresses if not allowed(a, allow_networks)]
    if refused:
        raise TargetRefused("host resolves to a local, private or reserved address")
    chosen = addresses[0]
    extensions: dict[str, Any] = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return Target(
        url=parsed.copy_with(host=str(chosen)),
        host_header=parsed.netloc.decode("ascii").rpartition("@")[2],
        extensions=extensions,
    )
