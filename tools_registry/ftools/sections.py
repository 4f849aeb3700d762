"""Image sections (``file.fits[1][101:200,101:200]``), cut as CFITSIO cuts them.

CFITSIO opens a section as a new image holding those pixels, with the world
coordinates of its header moved to match, so that every pixel keeps its sky position
(CFITSIO User's Guide, "Image Section"). Here the pixels are a numpy slice of the
(memory-mapped) image and the linear WCS keywords are rewritten: pixel p' of the section
is pixel ``start + (p' - 1) * s`` of the image, s being the step (negative on a flipped
axis), so ``CRPIX' = (CRPIX - start) / s + 1`` and the axis' scale (CDELT, or the CD/PC
matrix column) is multiplied by s.
"""
from __future__ import annotations

import numpy as np
from astropy.io import fits

from tools_registry.filename import AxisRange


def cut(hdu, section: tuple[AxisRange, ...], primary: bool, what: str = "infile"):
    """A new image HDU (primary or extension) with the pixels of ``section`` of ``hdu``."""
    if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        raise ValueError(f"{what}: an image section selects pixels of an image; HDU {hdu.name!r} is a table")
    naxis = hdu.header.get("NAXIS", 0)
    if naxis == 0 or hdu.data is None:
        raise ValueError(f"{what}: HDU {hdu.name or 'PRIMARY'!r} has no image to cut a section from")
    if len(section) != naxis:
        raise ValueError(f"{what}: the image has {naxis} axes; the section gives {len(section)}")
    header = hdu.header.copy()
    slices, starts, signed_steps = [], [], []
    for axis, spec in enumerate(section, 1):
        length = header[f"NAXIS{axis}"]
        start, end = (length, 1) if spec.flip and spec.start is None else \
            (1, length) if spec.start is None else (spec.start, spec.end)
        if max(start, end) > length:
            raise ValueError(f"{what}: axis {axis} has {length} pixels; the section asks for {spec}")
        step = -spec.step if start > end else spec.step
        stop = end - 1 + (1 if step > 0 else -1)  # 0-based, exclusive, in the step's direction
        slices.append(slice(start - 1, stop if stop >= 0 else None, step))
        starts.append(start)
        signed_steps.append(step)
    # numpy's axes are FITS's reversed: NAXIS1 varies fastest
    data = np.array(hdu.data[tuple(reversed(slices))])
    _move_wcs(header, starts, signed_steps)
    for key in ("CHECKSUM", "DATASUM"):
        header.remove(key, ignore_missing=True)
    header.add_history(f"image section {','.join(map(str, section))} of the input (pixels from 1)")
    kind = fits.PrimaryHDU if primary else fits.ImageHDU
    if primary:
        for key in ("XTENSION", "EXTNAME", "PCOUNT", "GCOUNT"):
            header.remove(key, ignore_missing=True)
    return kind(data=data, header=header)


def _move_wcs(header, starts, steps):
    """Rewrite CRPIX and the scale of each axis, for the primary WCS and the alternate
    ones (A-Z); CDELT defaults to 1 (FITS), so a PC-only axis gets CDELT = step."""
    n = len(starts)
    for axis, (start, step) in enumerate(zip(starts, steps), 1):
        for alt in ("", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            crpix, cdelt = f"CRPIX{axis}{alt}", f"CDELT{axis}{alt}"
            cd = [f"CD{i}_{axis}{alt}" for i in range(1, n + 1) if f"CD{i}_{axis}{alt}" in header]
            if crpix in header:
                header[crpix] = (header[crpix] - start) / step + 1
            if cd:
                for key in cd:
                    header[key] = header[key] * step
            elif cdelt in header:
                header[cdelt] = header[cdelt] * step
            elif step != 1 and f"CTYPE{axis}{alt}" in header:
                header[cdelt] = float(step)
