"""Slowing down guesses: failed sign-ins are counted per client address, in Redis.

Every credential that fails its check (a wrong token in the sign-in form, in HTTP Basic or
as a Bearer token) counts against the client's address. After ``HERA_SIGNIN_MAX_FAILURES``
failures within ``HERA_SIGNIN_FAILURE_WINDOW`` seconds (counted from the first), every
request from that address that brings credentials is answered 429 with ``Retry-After``
until the window ends. The answer comes before the credentials are checked, so that a
right guess cannot be told from a wrong one during the block; anonymous requests go on.

A successful sign-in resets nothing: otherwise anyone holding one valid token could
interleave it with guesses and never be slowed down. The counters live in Redis, so that
every web host of a service counts together; their keys carry the service's queue name,
as the sweeper's lock does, so that services sharing a Redis keep their counts apart.
An IPv6 client is counted by its /64 network, which one client usually holds entirely.

Where the address comes from (the connection, or ``X-Forwarded-For`` set by a listed
proxy) is decided by :mod:`vo_service.proxies`. When Redis does not answer, sign-ins are
not slowed down (and a warning is logged): tokens are 256-bit random strings, so this
limit is a second line of defence, and refusing every signed-in request while Redis is
away would be an outage of its own.
"""
from __future__ import annotations

import ipaddress
import logging
import math

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

KEY_PREFIX = "hera:signin-failures:"
#: one more failure; the window starts with the first (atomic: a script runs alone)
_COUNT = """
local failures = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return failures
"""


class TooManyFailures(TooManyRequests):
    """HTTP 429 with ``Retry-After``: this address failed to sign in too often."""


def _client_key() -> str:
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return KEY_PREFIX + f"{current_app.config['HERA_QUEUE']}:{address}"
    if ip.version == 6 and ip.ipv4_mapped is None:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    elif ip.version == 6:
        address = str(ip.ipv4_mapped)
    return KEY_PREFIX + f"{current_app.config['HERA_QUEUE']}:{address}"


def _limits() -> tuple[int, int]:
    return (int(current_app.config["HERA_SIGNIN_MAX_FAILURES"]),
            int(current_app.config["HERA_SIGNIN_FAILURE_WINDOW"]))


def _redis():
    return current_app.extensions["hera"].redis


def check() -> None:
    """Raise :class:`TooManyFailures` if this client may not try credentials now."""
    most, window = _limits()
    redis = _redis()
    if most <= 0 or redis is None:
        return
    key = _client_key()
    try:
        with redis.pipeline() as pipe:
            failures, ttl = pipe.get(key).pttl(key).execute()
    except Exception:
        log.warning("sign-in failures cannot be read from Redis; not slowing down", exc_info=True)
        return
    if failures is not None and int(failures) >= most:
        retry_after = math.ceil(ttl / 1000) if ttl and ttl > 0 else window
        raise TooManyFailures(
            f"too many failed sign-ins from your address ({int(failures)} within {window} s); "
            f"try again in {retry_after} s", retry_after=retry_after)


def record_failure() -> None:
    """Count one failed credential check against this client's address."""
    most, window = _limits()
    redis = _redis()
    if most <= 0 or redis is None:
        return
    key = _client_key()
    try:
        redis.eval(_COUNT, 1, key, window)
    except Exception:
        log.warning("a failed sign-in cannot be counted in Redis", exc_info=True)
