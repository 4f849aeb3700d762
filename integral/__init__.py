"""The INTEGRAL domain: what every part of Hera (ingest, the demo generator, the catalogue,
the tools, the web pages) knows about the mission itself.

- :mod:`integral.time`: its time scales (MJD and ISO in UTC, IJD in TT, OBT as given), its
  launch and the end of its science operations;
- :mod:`integral.revolutions`: its revolutions (orbits), from the mission's orbit tables
  shipped in ``integral/data``, refined by the science windows after the tables end;
- :mod:`integral.instruments`: its instruments, their good-time columns and the fields of
  view (fully and partially coded) of the imaging ones, with their response model;
- :mod:`integral.coordinates`: sky coordinates (ICRS, Galactic, position angles, the Sun);
- :mod:`integral.pointing`: the spacecraft's attitude: the archives' ``posangle``
  convention, the spacecraft frame a source's off-axis angles are measured in, dither
  patterns and the solar aspect constraint.

The bottom layer of Hera: it may import only the standard library, NumPy, erfa and astropy,
never another Hera package. Each number names its source in its module.
"""
