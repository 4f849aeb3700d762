"""Which IP addresses an outgoing request may reach: public ones, and the networks the
operator lists.

An IPv6 address that only carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, the
NAT64 prefix ``64:ff9b::/96``, 6to4 ``2002::/16``) reaches that IPv4 address, so it is
judged by it: ``::ffff:127.0.0.1`` is loopback, ``64:ff9b::808:808`` is as public as
8.8.8.8 (a DNS64 resolver on an IPv6-only host answers such addresses for every IPv4 site).
"""
from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

#: RFC 6052's well-known NAT64 prefix: the last 32 bits are the IPv4 address reached
NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
#: RFC 8215's local-use NAT64 prefix: translated inside the operator's own network
NAT64_LOCAL_USE = IPv6Network("64:ff9b:1::/48")


def parse(address: str) -> IPAddress:
    """An address as ``getaddrinfo`` gives it (an IPv6 one may carry a ``%zone``)."""
    return ipaddress.ip_address(address.split("%", 1)[0])


def destination(ip: IPAddress) -> IPAddress:
    """The address a connection to ``ip`` really reaches: the IPv4 address inside an
    IPv4-mapped, NAT64 or 6to4 address, else ``ip`` itself."""
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64_WELL_KNOWN:
            return IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return ip


def why_not_public(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address (None when it is one)."""
    if isinstance(ip, IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        if ip.teredo is not None:
            return "a Teredo tunnel address"
    reached = destination(ip)
    via = f" (it reaches {reached})" if reached != ip else ""
    for test, name in ((reached.is_unspecified, "unspecified"), (reached.is_loopback, "loopback"),
                       (reached.is_link_local, "link-local"), (reached.is_multicast, "multicast"),
                       (reached.is_reserved, "reserved"), (reached.is_private, "private")):
        if test:
            return f"a {name} address{via}"
    if not reached.is_global:  # shared address space 100.64/10, documentation ranges, …
        return f"not a globally routable address{via}"
    return None
