"""OGIP spectra, ARFs and RMFs as OSA writes them, read with astropy and given to sherpa.

sherpa's own readers stop at what INTEGRAL's Off-line Scientific Analysis really writes:
numeric keywords holding the strings 'Real' or 'Integer', keywords without a value,
matrices and energy bounds under OSA extension names (``ISGR-RMF.-RSP``,
``JMX1-AXIS-ARF``), NaN rates in bad channels, a spectrum numbering its channels from 1
against a matrix numbering them from 0. So the HDUs are found by their OGIP classes
(HDUCLAS1/HDUCLAS2 = SPECTRUM, RESPONSE/RSP_MATRIX, EBOUNDS, SPECRESP) or, failing
those, by their columns; keywords are read as numbers only when they are numbers; and
the columns become sherpa's ``DataPHA``, ``DataARF`` and ``DataRMF``. The folding, the
grouping and the quality filter are then sherpa's.

Every problem with an input is a ``ValueError`` whose message starts with the parameter
name (``phafile: ...``), which the job shows to the user as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from sherpa.astro.data import DataARF, DataPHA, DataRMF

from tools_registry import compressed
from tools_registry.filename import split_input
from tools_registry.ftools.tables import hdu_index

# OGIP quality flags: 0 good, 1 bad by the pipeline, 2 dubious, 5 bad by the user.
BAD_QUALITY = 1


@dataclass
class Spectrum:
    """A spectrum ready for sherpa, and what the tool reports about it."""
    data: object  # sherpa.astro.data.DataPHA
    is_rate: bool  # the file held rates (OSA's background-subtracted spectra), not counts
    poisson: bool  # counts with Poisson errors (POISSERR = T, no STAT_ERR)
    net: bool  # background already subtracted (HDUCLAS2 = NET)
    respfile: str | None  # the response the header names, resolved beside the file
    ancrfile: str | None
    backfile: str | None
    notes: list[str] = field(default_factory=list)
    arf: object = None  # the DataARF and DataRMF attached by ``match``
    rmf: object = None


def _open(name: str, what: str):
    path, hdu_spec = split_input(name)
    try:
        return compressed.open_fits(path), hdu_spec, path
    except compressed.TooLarge as error:
        raise ValueError(f"{what}: {error}") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{what}: cannot open {Path(path).name!r} as FITS ({error})") from None


def number(header, key: str, default=None):
    """A numeric keyword's value; ``default`` when it is missing, has no value, or holds
    text (OSA writes ``EXPOSURE = 'Real'`` in templates it did not fill)."""
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return default
    value = float(value)
    return value if math.isfinite(value) else default


def _text(header, key: str) -> str:
    value = header.get(key)
    return value.strip() if isinstance(value, str) else ""


def _class(hdu, level: int) -> str:
    return _text(hdu.header, f"HDUCLAS{level}").upper()


def _columns(hdu) -> set[str]:
    return {n.upper() for n in hdu.columns.names} if isinstance(hdu, fits.BinTableHDU) else set()


def _find(hdulist, hdu_spec, what: str, wanted, kind: str) -> fits.BinTableHDU:
    """The HDU that ``hdu_spec`` selects, else the first for which ``wanted(hdu)``."""
    if hdu_spec is not None:
        return hdulist[hdu_index(hdulist, hdu_spec, what)]
    for hdu in hdulist[1:]:
        if isinstance(hdu, fits.BinTableHDU) and wanted(hdu):
            return hdu
    names = ", ".join(h.name for h in hdulist[1:]) or "none"
    raise ValueError(f"{what}: no {kind} extension (extensions: {names})")


def _is_spectrum(hdu) -> bool:
    if _class(hdu, 1) == "SPECTRUM":
        return True
    return "CHANNEL" in _columns(hdu) and bool({"COUNTS", "RATE"} & _columns(hdu))


def _is_matrix(hdu) -> bool:
    if _class(hdu, 1) == "RESPONSE" and _class(hdu, 2) == "RSP_MATRIX":
        return True
    return {"ENERG_LO", "ENERG_HI", "F_CHAN", "N_CHAN", "MATRIX"} <= _columns(hdu)


def _is_ebounds(hdu) -> bool:
    if _class(hdu, 1) == "RESPONSE" and _class(hdu, 2) == "EBOUNDS":
        return True
    return {"CHANNEL", "E_MIN", "E_MAX"} <= _columns(hdu)


def _is_arf(hdu) -> bool:
    if _class(hdu, 1) == "RESPONSE" and _class(hdu, 2) == "SPECRESP":
        return True
    return {"ENERG_LO", "ENERG_HI", "SPECRESP"} <= _columns(hdu)


def _column(table, header, name: str, row: int | None, default=None):
    """A spectrum column (one value per channel), or its keyword, or ``default``.
    In a type II file (one spectrum per row) the row's vector."""
    names = {n.upper(): n for n in table.columns.names}
    if name in names:
        values = table.data[names[name]]
        values = values[row] if row is not None else values
        return np.asarray(values, dtype=float)
    value = number(header, name)
    return default if value is None else value


def _beside(reference: Path, named: str, what: str) -> str | None:
    """A file a spectrum's header names (RESPFILE, ANCRFILE, BACKFILE), looked for in
    the spectrum's folder and below it only: a header must not reach other files."""
    named = named.strip()
    if not named or named.upper() == "NONE" or named.startswith("%"):
        return None
    named = named.split("[")[0]
    candidate = Path(named)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise ValueError(f"{what}: the spectrum's header names {named!r}, outside its folder; give the file")
    path = reference.parent / candidate
    if not path.is_file():
        raise ValueError(f"{what}: the spectrum's header names {named!r}, which is not beside it; give the file")
    return str(path)


def read_pha(name: str, row: int | None = None, what: str = "phafile"):
    """The spectrum of ``name`` (type I, or row ``row`` (1-based) of a type II file)
    as a ``Spectrum``; channels are numbered 1.. here and renumbered by ``match``."""
    hdulist, hdu_spec, path = _open(name, what)
    with hdulist:
        hdu = _find(hdulist, hdu_spec, what, _is_spectrum, "SPECTRUM")
        header = hdu.header
        names = _columns(hdu)
        counts_name = "RATE" if "RATE" in names else "COUNTS" if "COUNTS" in names else None
        if counts_name is None:
            raise ValueError(f"{what}: extension {hdu.name} has neither a COUNTS nor a RATE column")
        n_rows = len(hdu.data)
        type_ii = hdu.columns[counts_name].array.ndim > 1 or _text(header, "HDUCLAS4").upper() == "TYPE:II"
        if type_ii:
            if row is None:
                if n_rows != 1:
                    raise ValueError(f"{what}: a type II file with {n_rows} spectra; choose one with row (1 to {n_rows})")
                row = 1
            if not 1 <= row <= n_rows:
                raise ValueError(f"row: {row} is outside 1 to {n_rows}, the spectra of {Path(path).name}")
            index = row - 1
        elif row not in (None, 1):
            raise ValueError(f"row: {Path(path).name} holds one spectrum (type I); row applies to type II files")
        else:
            index = None
        values = _column(hdu, header, counts_name, index)
        n = len(values)
        exposure = number(header, "EXPOSURE")
        is_rate = counts_name == "RATE"
        if is_rate and not exposure:
            raise ValueError(f"{what}: a rate spectrum needs a positive EXPOSURE keyword (it has "
                             f"{header.get('EXPOSURE')!r})")
        staterr = _column(hdu, header, "STAT_ERR", index)
        syserr = _column(hdu, header, "SYS_ERR", index, 0.0)
        quality = np.broadcast_to(_column(hdu, header, "QUALITY", index, 0.0), (n,)).astype(int)
        grouping = _column(hdu, header, "GROUPING", index)
        areascal = _column(hdu, header, "AREASCAL", index, 1.0)
        backscal = _column(hdu, header, "BACKSCAL", index, 1.0)
        poisserr = header.get("POISSERR")
        net = _class(hdu, 2) == "NET"
        references = {key: _text(header, key) for key in ("RESPFILE", "ANCRFILE", "BACKFILE")}
        kept_header = {key: header[key] for key in ("TELESCOP", "INSTRUME", "DETNAM", "OBJECT", "DATE-OBS")
                       if isinstance(header.get(key), str)}

    notes = []
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values)
    if staterr is not None:
        staterr = np.broadcast_to(np.asarray(staterr, dtype=float), (n,)).copy()
        bad |= ~np.isfinite(staterr)
        if np.all(staterr[~bad] == 0):
            staterr = None
    if bad.any():
        notes.append(f"{int(bad.sum())} channels with NaN values marked bad")
    quality = np.where(bad, BAD_QUALITY, quality)
    values = np.where(bad, 0.0, values)
    if staterr is not None:
        staterr = np.where(bad, 0.0, staterr)
    poisson = not is_rate and staterr is None and poisserr is not False
    if not poisson and staterr is None:
        raise ValueError(f"{what}: {'rates' if is_rate else 'counts'} without STAT_ERR and with POISSERR = F: "
                         "the file gives no errors to fit with")
    scale = exposure if is_rate else 1.0
    counts = values * scale
    if staterr is not None:
        staterr = staterr * scale
        # a channel of zero error cannot enter a chi-square: treat it as bad
        zero = (staterr <= 0) & (quality == 0)
        if zero.any():
            quality = np.where(zero, BAD_QUALITY, quality)
            notes.append(f"{int(zero.sum())} channels with STAT_ERR <= 0 marked bad")
    syserr = np.broadcast_to(np.asarray(syserr, dtype=float), (n,))
    # OGIP's SYS_ERR is a fraction of the value; sherpa adds an absolute error in quadrature
    syserror = np.abs(syserr * counts) if np.any(syserr > 0) else None
    if grouping is not None:
        grouping = np.broadcast_to(np.asarray(grouping, dtype=float), (n,)).astype(int)
        if np.all(grouping == 1) or np.all(grouping == 0):
            grouping = None

    data = DataPHA(Path(path).name, np.arange(1, n + 1, dtype=float), counts, staterror=staterr,
                   syserror=syserror, grouping=grouping, quality=quality, exposure=exposure,
                   backscal=backscal, areascal=areascal, header=kept_header)
    reference = Path(path)
    return Spectrum(
        data=data, is_rate=is_rate, poisson=poisson, net=net,
        respfile=_beside(reference, references["RESPFILE"], "rmffile"),
        ancrfile=_beside(reference, references["ANCRFILE"], "arffile"),
        backfile=_beside(reference, references["BACKFILE"], "backfile"),
        notes=notes)


def read_arf(name: str, what: str = "arffile"):
    """The effective area of ``name`` as a sherpa ``DataARF`` (cm^2 against keV)."""
    hdulist, hdu_spec, path = _open(name, what)
    with hdulist:
        hdu = _find(hdulist, hdu_spec, what, _is_arf, "SPECRESP (effective area)")
        d = hdu.data
        lo, hi, area = (np.asarray(d[c], dtype=float) for c in ("ENERG_LO", "ENERG_HI", "SPECRESP"))
    area = np.where(np.isfinite(area), area, 0.0)
    _check_grid(lo, hi, what)
    return DataARF(Path(path).name, lo, hi, area)


def read_rmf(name: str, what: str = "rmffile"):
    """The redistribution matrix of ``name`` (compressed rows: N_GRP groups of N_CHAN
    channels from F_CHAN) and its EBOUNDS as a sherpa ``DataRMF``."""
    hdulist, hdu_spec, path = _open(name, what)
    with hdulist:
        matrix_hdu = _find(hdulist, hdu_spec, what, _is_matrix, "RSP_MATRIX (redistribution matrix)")
        ebounds_hdu = _find(hdulist, None, what, _is_ebounds, "EBOUNDS")
        header = matrix_hdu.header
        d = matrix_hdu.data
        lo, hi = np.asarray(d["ENERG_LO"], dtype=float), np.asarray(d["ENERG_HI"], dtype=float)
        n_grp = np.asarray(d["N_GRP"], dtype=int)
        f_col, n_col, m_col = d["F_CHAN"], d["N_CHAN"], d["MATRIX"]
        f_chan, n_chan, values = [], [], []
        for i, groups in enumerate(n_grp):
            if groups <= 0:
                continue
            first = np.atleast_1d(np.asarray(f_col[i], dtype=int))[:groups]
            width = np.atleast_1d(np.asarray(n_col[i], dtype=int))[:groups]
            # OGIP: a row holds the elements of its groups one after the other
            elements = np.atleast_1d(np.asarray(m_col[i], dtype=float))[:int(width.sum())]
            f_chan.append(first)
            n_chan.append(width)
            values.append(elements)
        e = ebounds_hdu.data
        channels = np.asarray(e["CHANNEL"], dtype=int)
        e_min, e_max = np.asarray(e["E_MIN"], dtype=float), np.asarray(e["E_MAX"], dtype=float)
        detchans = number(header, "DETCHANS") or number(ebounds_hdu.header, "DETCHANS") or len(channels)
        f_index = 1 + [n.upper() for n in matrix_hdu.columns.names].index("F_CHAN")
        offset = number(header, f"TLMIN{f_index}")
    detchans = int(detchans)
    if len(channels) != detchans:
        raise ValueError(f"{what}: EBOUNDS has {len(channels)} channels, the matrix DETCHANS = {detchans}")
    f_chan = np.concatenate(f_chan) if f_chan else np.zeros(0, int)
    if offset is None:  # no TLMIN: the first channel is the smaller of EBOUNDS' and the matrix's
        offset = min(int(channels.min()), int(f_chan.min()) if len(f_chan) else 1)
    offset = int(offset)
    if len(f_chan) and (f_chan.min() < offset or (f_chan + np.concatenate(n_chan)).max() > offset + detchans):
        raise ValueError(f"{what}: matrix groups reach outside channels {offset} to {offset + detchans - 1}")
    _check_grid(lo, hi, what)
    matrix = np.concatenate(values) if values else np.zeros(0)
    matrix = np.where(np.isfinite(matrix), matrix, 0.0)
    return DataRMF(Path(path).name, detchans, lo, hi, n_grp.astype(np.uint64),
                   f_chan.astype(np.uint64), np.concatenate(n_chan).astype(np.uint64) if n_chan else
                   np.zeros(0, np.uint64), matrix, offset=offset, e_min=e_min, e_max=e_max)


def _check_grid(lo, hi, what: str) -> None:
    if len(lo) == 0:
        raise ValueError(f"{what}: the energy grid is empty")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi > lo)):
        raise ValueError(f"{what}: ENERG_LO/ENERG_HI are not increasing bins of finite energies")


def match(spectrum: Spectrum, arf, rmf, what: str = "phafile") -> None:
    """Attach ``arf`` and ``rmf`` to the spectrum, numbering its channels as the matrix
    does (OSA's spectra count from 1 while some of its matrices count from 0)."""
    data = spectrum.data
    if len(data.channel) != rmf.detchans:
        raise ValueError(f"{what}: {len(data.channel)} channels, but the RMF {rmf.name} has "
                         f"{rmf.detchans} (DETCHANS): not its response")
    if arf is not None:
        if len(arf.energ_lo) != len(rmf.energ_lo) or not np.allclose(arf.energ_lo, rmf.energ_lo, rtol=1e-4):
            raise ValueError(f"arffile: its energy grid ({len(arf.energ_lo)} bins from {arf.energ_lo[0]:g} keV) "
                             f"is not the RMF's ({len(rmf.energ_lo)} bins from {rmf.energ_lo[0]:g} keV)")
        # keep the RMF's exact grid so that sherpa sees one grid
        arf.energ_lo, arf.energ_hi = rmf.energ_lo, rmf.energ_hi
    data.channel = np.arange(rmf.offset, rmf.offset + rmf.detchans, dtype=float)
    spectrum.arf, spectrum.rmf = arf, rmf
    data.set_rmf(rmf)
    if arf is not None:
        data.set_arf(arf)
    data.set_analysis("energy")


def add_background(spectrum: Spectrum, background: Spectrum, what: str = "backfile") -> None:
    """Give the spectrum its background, channel by channel; sherpa scales it by the
    ratio of EXPOSURE x BACKSCAL x AREASCAL."""
    data, bkg = spectrum.data, background.data
    if spectrum.net:
        raise ValueError(f"{what}: {data.name} is already background-subtracted (HDUCLAS2 = NET)")
    if len(bkg.channel) != len(data.channel):
        raise ValueError(f"{what}: {len(bkg.channel)} channels, the spectrum {data.name} has {len(data.channel)}")
    bkg.channel = data.channel.copy()
    data.set_background(bkg)
    data.set_analysis("energy")
