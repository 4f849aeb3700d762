"""The INTEGRAL domain: what every part of Hera (ingest, catalogue, tools, web pages) knows
about the mission itself.

- :mod:`integral.time`: its time scales (MJD and ISO in UTC, IJD in TT, OBT as given);
- :mod:`integral.revolutions`: its revolutions (orbits), from the mission's orbit tables
  shipped in ``integral/data``, refined by the science windows after the tables end.
"""
