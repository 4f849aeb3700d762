"""The client's address when the service runs behind reverse proxies.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only on
a connection from a proxy that the operator lists in ``HERA_TRUSTED_PROXIES`` (addresses
or networks). On such a connection werkzeug's ``ProxyFix`` takes the client's address
from the header, ``HERA_PROXY_HOPS`` entries from its right end (one per proxy of the
operator's own that appends to it); on any other connection the header is ignored and
the address is the connection's. The address matters for slowing down failed sign-ins
(:mod:`accounts.signin_limit`): a header believed from anyone would let a client
give every guess a new address, or block someone else's.
"""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def _networks(listed) -> list:
    if isinstance(listed, str):  # HERA_TRUSTED_PROXIES=10.0.0.5,10.0.1.0/24 (not JSON)
        listed = listed.replace(",", " ").split()
    networks = []
    for entry in listed or ():
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ValueError(f"HERA_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return networks


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` for connections from listed proxies only."""

    def __init__(self, wsgi_app, listed, hops: int = 1):
        if int(hops) < 1:
            raise ValueError(f"HERA_PROXY_HOPS must be 1 or more, not {hops!r}")
        self.networks = _networks(listed)
        self.direct = wsgi_app
        self.through_proxy = ProxyFix(wsgi_app, x_for=int(hops))

    def from_listed_proxy(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.from_listed_proxy(environ.get("REMOTE_ADDR")):
            return self.through_proxy(environ, start_response)
        return self.direct(environ, start_response)
