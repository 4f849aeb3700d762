"""Well-known INTEGRAL targets, resolved by name without a network name resolver.

The service runs offline (no Sesame, no SIMBAD), so the selection page resolves target
names from this table: ICRS J2000 positions in degrees from SIMBAD, rounded to 0.0001 deg,
with the aliases astronomers type. Names are matched ignoring case, spaces, '-', '_' and '*'.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    ra: float
    dec: float
    aliases: tuple[str, ...] = ()
    kind: str = ""


TARGETS = (
    Target("Crab", 83.6331, 22.0145, ("Crab Nebula", "Crab pulsar", "M1", "M 1", "Tau A", "PSR B0531+21"),
           "pulsar wind nebula"),
    Target("Galactic Centre", 266.4168, -29.0078,
           ("Galactic Center", "GC", "Sgr A*", "Sgr A", "Sagittarius A*"), "supermassive black hole"),
    Target("Cyg X-1", 299.5903, 35.2016, ("Cygnus X-1", "HDE 226868"), "black-hole binary"),
    Target("Vela X-1", 135.5286, -40.5547, ("4U 0900-40", "GP Vel"), "high-mass X-ray binary"),
    Target("GRS 1915+105", 288.7983, 10.9458, ("V1487 Aql",), "microquasar"),
    Target("Cen A", 201.3651, -43.0191, ("Centaurus A", "NGC 5128"), "radio galaxy"),
    Target("3C 273", 187.2779, 2.0524, ("3C273",), "quasar"),
    Target("Her X-1", 254.4576, 35.3424, ("Hercules X-1", "HZ Her"), "X-ray pulsar"),
    Target("Sco X-1", 244.9795, -15.6402, ("Scorpius X-1",), "low-mass X-ray binary"),
    Target("Cas A", 350.8500, 58.8150, ("Cassiopeia A",), "supernova remnant"),
    Target("Cyg X-3", 308.1074, 40.9577, ("Cygnus X-3",), "microquasar"),
    Target("GX 339-4", 255.7057, -48.7897, (), "black-hole binary"),
    Target("4U 1630-47", 248.5067, -47.3934, (), "black-hole binary"),
    Target("Vela pulsar", 128.8361, -45.1764, ("PSR B0833-45", "Vela"), "pulsar"),
    Target("1E 1740.7-2942", 265.9785, -29.7452, ("Great Annihilator",), "black-hole candidate"),
    Target("GX 1+4", 263.0125, -24.7456, (), "X-ray pulsar"),
    Target("Cen X-3", 170.3133, -60.6230, ("Centaurus X-3",), "X-ray pulsar"),
    Target("A0535+26", 84.7274, 26.3158, ("A 0535+26", "1A 0535+262"), "Be X-ray binary"),
    Target("Aql X-1", 287.8168, 0.5850, ("Aquila X-1",), "X-ray burster"),
    Target("SS 433", 287.9565, 4.9827, ("SS433",), "microquasar"),
    Target("Coma cluster", 194.9531, 27.9807, ("Abell 1656", "Coma"), "galaxy cluster"),
    Target("Perseus cluster", 49.9507, 41.5117, ("Abell 426", "NGC 1275", "Perseus"), "galaxy cluster"),
    Target("LMC", 80.8942, -69.7561, ("Large Magellanic Cloud",), "galaxy"),
    Target("M31", 10.6847, 41.2690, ("Andromeda", "M 31", "NGC 224"), "galaxy"),
    Target("Mrk 421", 166.1138, 38.2088, ("Markarian 421",), "blazar"),
    Target("NGC 4151", 182.6357, 39.4057, (), "Seyfert galaxy"),
)


def _key(name: str) -> str:
    return re.sub(r"[\s_*\-]+", "", name).lower()


_BY_KEY = {_key(alias): t for t in TARGETS for alias in (t.name, *t.aliases)}


def resolve(name: str) -> Target | None:
    """The target called ``name`` (or one of its aliases), or None."""
    return _BY_KEY.get(_key(name))
