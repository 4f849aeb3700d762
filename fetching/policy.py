"""The fetch policy: which hosts an outgoing request may reach, how long it may take and
how many redirects it may follow. One policy, built from the configuration, for every
request the service makes on a user's behalf (docs/fetching.md).
"""
from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass, replace
from ipaddress import IPv4Network, IPv6Network

from . import addresses
from .errors import FetchError, FetchRefused
from .urls import Target


def names(value) -> tuple[str, ...]:
    """A setting that lists names: a list, or a string of names separated by commas or
    spaces, or a JSON list (as an environment variable may carry it)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text)
        else:
            value = text.replace(",", " ").split()
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def host_matches(host: str, entry: str) -> bool:
    """``entry`` is a host name, or ``.example.org`` for that domain and every host in it."""
    host, entry = host.lower().rstrip("."), entry.lower().rstrip(".")
    if entry.startswith("."):
        return host == entry[1:] or host.endswith(entry)
    return host == entry


@dataclass(frozen=True)
class FetchPolicy:
    #: non-public networks the operator lets requests reach (HERA_FETCH_ALLOW's addresses and CIDRs)
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    #: host names (or ``.domain``) whose addresses may be non-public (HERA_FETCH_ALLOW's names)
    allowed_names: tuple[str, ...] = ()
    #: when set, only these hosts (names or ``.domain``) may be fetched from at all, on every hop
    only_hosts: tuple[str, ...] | None = None
    #: the setting that lists ``only_hosts``, named in refusals so that the reader knows where to look
    only_hosts_setting: str = ""
    timeout: float = 30.0
    max_redirects: int = 5

    @classmethod
    def from_config(cls, config) -> "FetchPolicy":
        """The policy of ``HERA_FETCH_ALLOW``, ``HERA_FETCH_TIMEOUT`` and
        ``HERA_FETCH_MAX_REDIRECTS``."""
        networks, hosts = [], []
        for entry in names(config.get("HERA_FETCH_ALLOW")):
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if "/" in entry or ":" in entry:  # meant as an address or network: say so at start
                    raise ValueError(f"HERA_FETCH_ALLOW: {entry!r} is neither an IP address, "
                                     "a network nor a host name") from None
                hosts.append(entry)
        return cls(allowed_networks=tuple(networks), allowed_names=tuple(hosts),
                   timeout=float(config.get("HERA_FETCH_TIMEOUT", cls.timeout)),
                   max_redirects=int(config.get("HERA_FETCH_MAX_REDIRECTS", cls.max_redirects)))

    def restricted_to(self, hosts, setting: str) -> "FetchPolicy":
        """This policy, fetching only from ``hosts`` (named by the setting ``setting``)."""
        return replace(self, only_hosts=names(hosts), only_hosts_setting=setting)

    def check_host(self, target: Target) -> None:
        if self.only_hosts is not None and not any(host_matches(target.host, h) for h in self.only_hosts):
            raise FetchRefused(f"refused: this service does not fetch from {target.host} (its operator "
                               f"lists the hosts it fetches from in {self.only_hosts_setting})", 403)

    def addresses(self, target: Target) -> list[str]:
        """The addresses ``target.host`` resolves to, every one of them allowed; the
        connection is then made to these, never to a second lookup's answer."""
        self.check_host(target)
        found = resolve(target.host, target.port)
        if not found:
            raise FetchError(f"{target.host} has no address")
        named = any(host_matches(target.host, n) for n in self.allowed_names)
        for address in found:
            ip = addresses.parse(address)
            reason = addresses.why_not_public(ip)
            if reason and not named and not self._listed(ip):
                where = f"{target.host} is" if _is_address(target.host) else f"{target.host} resolves to {ip},"
                raise FetchRefused(f"refused: {where} {reason}; this service reaches such addresses "
                                   "only where its operator lists them (HERA_FETCH_ALLOW)", 403)
        return found

    def _listed(self, ip) -> bool:
        reached = addresses.destination(ip)
        return any(a in net for net in self.allowed_networks for a in {ip, reached}
                   if a.version == net.version)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, in the resolver's order, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError(f"cannot resolve {host}: {getattr(err, 'strerror', None) or err}") from None
    found: list[str] = []
    for info in infos:
        if info[0] in (socket.AF_INET, socket.AF_INET6) and info[4][0] not in found:
            found.append(info[4][0])
    return found
