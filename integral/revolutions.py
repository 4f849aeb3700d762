"""INTEGRAL's revolutions (orbits): when each began and ended, its perigee, its science time.

The source is ESA's own orbit tables, shipped in ``integral/data`` (see its README):

- ``integral_revolution_starts_2002-2020.csv`` (ESOC's "perigee time and revolution number"
  file): each revolution runs from its perigee passage to the next one. Revolutions 1-2129
  are reconstructed (flag R); 2130-2191 (to 2020-02-05) were predicted by ESOC (flag P).
- ``integral_radiation_belts_2002-2019.csv``: when the spacecraft left the radiation belts
  after perigee and re-entered them before the next (IJD, TT), revolutions 2-2131. Science
  time runs from belt exit to belt entry.

After the tables end, a revolution's bounds come from the science windows themselves (the
first four digits of ``scw_id`` are the revolution): a revolution starts at the latest at the
start of its first window, and ends at the earliest at the end of its last one, so every
window lies inside its own revolution. Where no window tells, the start is predicted from the
last known orbit (interpolated between the known revolutions around it, or extrapolated with
the mean period of the last reconstructed revolutions), and the revolution is flagged as
predicted, up to the end of science operations (2025-02-28).

All times are MJD in UTC (see :mod:`integral.time`).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Mapping, NamedTuple

import numpy as np

from . import time as itime

STARTS_FILE = "integral_revolution_starts_2002-2020.csv"
BELTS_FILE = "integral_radiation_belts_2002-2019.csv"
#: how many of the last reconstructed revolutions give the mean period of predictions
PERIOD_SAMPLE = 50


@dataclass(frozen=True)
class Revolutions:
    """Revolutions ``number`` (ascending) with their ``start`` and ``end`` (MJD, UTC; a
    revolution holds the times start <= t < end), ``perigee`` (NaN where only windows tell the
    start), ``science_start``/``science_end`` (radiation-belt exit and entry, NaN where not
    known) and whether the bounds are ``predicted``."""

    number: np.ndarray
    start: np.ndarray
    end: np.ndarray
    perigee: np.ndarray
    science_start: np.ndarray
    science_end: np.ndarray
    predicted: np.ndarray

    def of(self, mjd):
        """The revolution in progress at ``mjd`` (MJD, UTC; a number or an array): an int, or
        None (-1 in arrays) outside every revolution."""
        times = np.atleast_1d(np.asarray(mjd, dtype=float))
        order = np.argsort(self.start, kind="stable")
        starts = self.start[order]
        i = np.searchsorted(starts, times, side="right") - 1
        found = i >= 0
        idx = order[np.clip(i, 0, None)]
        found &= times < self.end[idx]
        result = np.where(found, self.number[idx], -1)
        if np.ndim(mjd) == 0:
            return int(result[0]) if result[0] >= 0 else None
        return result

    def index(self, revolution: int) -> int | None:
        """Position of ``revolution`` in the arrays, or None."""
        i = int(np.searchsorted(self.number, revolution))
        return i if i < len(self.number) and self.number[i] == revolution else None

    def rows(self) -> list[dict]:
        """One dict per revolution, NaN as None, as integral.revolution holds them."""
        def value(x):
            return None if not np.isfinite(x) else float(x)

        return [{"revolution": int(n), "start_time": float(s), "end_time": float(e),
                 "perigee_time": value(p), "science_start": value(a), "science_end": value(b),
                 "predicted": bool(f)}
                for n, s, e, p, a, b, f in zip(self.number, self.start, self.end, self.perigee,
                                               self.science_start, self.science_end, self.predicted)]


# -- the orbit tables ---------------------------------------------------------------------------
def _read(name: str) -> list[dict]:
    with resources.files(__package__).joinpath("data", name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _iso_or_nan(values) -> np.ndarray:
    # the belt table writes "nanTnan" where its source had no perigee
    return itime.mjd_from_iso([None if not v or "nan" in v else v for v in values])


@lru_cache(maxsize=1)
def table() -> dict[str, np.ndarray]:
    """ESOC's revolution table: ``number``, ``start``, ``end`` (NaN for the last),
    ``reconstructed`` (flag R)."""
    rows = _read(STARTS_FILE)
    return {"number": np.array([int(r["revolution"]) for r in rows]),
            "start": _iso_or_nan([r["start_utc"] for r in rows]),
            "end": _iso_or_nan([r["end_utc"] for r in rows]),
            "reconstructed": np.array([r["flag"].strip().upper() == "R" for r in rows])}


@lru_cache(maxsize=1)
def radiation_belts() -> dict[str, np.ndarray]:
    """Belt exit and entry (MJD, UTC; NaN where empty) by revolution ``number``."""
    rows = _read(BELTS_FILE)

    def ijd(name):
        return itime.mjd_from_ijd(np.array([float(r[name]) if r[name] else np.nan for r in rows]))

    return {"number": np.array([int(r["revolution"]) for r in rows]),
            "exit": ijd("belt_exit_ijd"), "entry": ijd("belt_entry_ijd")}


@lru_cache(maxsize=1)
def mean_period() -> float:
    """Mean length (d) of the last :data:`PERIOD_SAMPLE` reconstructed revolutions."""
    t = table()
    lengths = (t["end"] - t["start"])[t["reconstructed"]]
    return float(np.mean(lengths[-PERIOD_SAMPLE:]))


# -- revolutions from the tables, refined by the windows ----------------------------------------
class Span(NamedTuple):
    """What the science windows of one revolution tell: the ``first`` window's start, the
    ``last`` one's end (MJD, UTC), and whether the first is the revolution's opening window
    (pointing 0000, which INTEGRAL takes about an hour after perigee)."""

    first: float
    last: float
    opens: bool = False


def build(windows: Mapping[int, Span] | None = None,
          until: float = itime.END_OF_SCIENCE_OPERATIONS_MJD) -> Revolutions:
    """The revolutions of the orbit table, then from the science ``windows`` (revolution →
    :class:`Span`), then predicted up to ``until``."""
    windows = {int(rev): Span(*span) for rev, span in (windows or {}).items()}
    t = table()
    period = mean_period()
    last_table = int(t["number"][-1])
    start: dict[int, float] = dict(zip(t["number"].tolist(), t["start"].tolist()))
    predicted = {int(n): not r for n, r in zip(t["number"], t["reconstructed"])}
    perigee = dict(start)

    # after the table: a revolution whose opening window is known starts with it; the others
    # are predicted between those, or after the last one, then bounded by their windows below
    anchors = [last_table] + sorted(r for r, span in windows.items() if r > last_table and span.opens)
    for rev in anchors[1:]:
        start[rev], predicted[rev] = windows[rev].first, False
    last_window = max(windows, default=0)
    for a, b in zip(anchors, anchors[1:] + [None]):
        step = period if b is None else (start[b] - start[a]) / (b - a)
        if not 0.8 * period <= step <= 1.2 * period:  # windows at odd times: do not interpolate
            step = period
        rev = a + 1
        while rev != b:
            guess = start[a] + (rev - a) * step
            if guess >= until and rev > last_window:
                break
            if guess < until or rev in windows:
                start[rev], predicted[rev] = guess, True
                if rev not in windows:
                    perigee[rev] = guess
            rev += 1

    number = np.array(sorted(start))
    s = np.array([start[n] for n in number])
    # every window inside its own revolution: start no later than its first window, and the
    # next revolution no earlier than its last window's end
    for i, n in enumerate(number):
        if n in windows:
            s[i] = min(s[i], windows[n].first)
    for i, n in enumerate(number[:-1]):
        if n in windows and number[i + 1] == n + 1:
            lower = windows[n].last
            upper = windows[n + 1].first if n + 1 in windows else np.inf
            s[i + 1] = min(max(s[i + 1], lower), upper)
    e = np.empty_like(s)
    contiguous = np.diff(number) == 1
    e[:-1] = np.where(contiguous, s[1:], np.nan)
    e[-1] = np.nan
    for i in np.flatnonzero(~np.isfinite(e)):  # no next revolution: predicted, or the last window
        n = int(number[i])
        e[i] = max(s[i] + period, windows[n].last) if n in windows else s[i] + period

    belts = radiation_belts()
    exit_, entry = np.full(len(number), np.nan), np.full(len(number), np.nan)
    pos = np.searchsorted(number, belts["number"])
    ok = (pos < len(number)) & (number[np.clip(pos, 0, len(number) - 1)] == belts["number"])
    exit_[pos[ok]], entry[pos[ok]] = belts["exit"][ok], belts["entry"][ok]
    # a few rows of the belt table are another revolution's or out of order: keep the values
    # that lie inside their revolution, in order
    exit_ = np.where((exit_ >= s) & (exit_ < e) & ~(exit_ >= entry), exit_, np.nan)
    entry = np.where((entry > s) & (entry <= e) & ~(entry <= exit_), entry, np.nan)

    return Revolutions(
        number=number, start=s, end=e,
        perigee=np.array([perigee.get(int(n), np.nan) for n in number]),
        science_start=exit_, science_end=entry,
        predicted=np.array([predicted[int(n)] for n in number]))


@lru_cache(maxsize=1)
def orbit() -> Revolutions:
    """The revolutions of the orbit tables alone, predicted after them to the end of science
    operations (no science windows)."""
    return build()


def mission() -> tuple[int, int]:
    """The first and the last revolution of the mission: the orbit table's first, and the
    last one begun before the end of science operations."""
    numbers = orbit().number
    return int(numbers[0]), int(numbers[-1])


def revolution_of(mjd):
    """The revolution in progress at ``mjd`` (MJD, UTC) by the orbit tables (predicted after
    2020-02-05): an int or None, or an array (-1 outside every revolution)."""
    return orbit().of(mjd)


def start_of(revolution: int) -> float:
    """Start (MJD, UTC) of ``revolution`` by the orbit tables; after the predicted ones,
    extrapolated with the mean period."""
    revs = orbit()
    i = revs.index(revolution)
    if i is not None:
        return float(revs.start[i])
    if revolution < revs.number[0]:
        raise ValueError(f"revolution {revolution} is before the first, {int(revs.number[0])}")
    return float(revs.start[-1] + (revolution - revs.number[-1]) * mean_period())
