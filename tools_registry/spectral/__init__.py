"""Spectral analysis tools: forward-folded fitting of OGIP spectra with their responses.

``ogip`` reads spectra, ARFs and RMFs as INTEGRAL's OSA writes them (and as OGIP says)
with astropy and hands them to sherpa as data objects; ``models`` turns an XSPEC-style
model expression into sherpa models; ``specfit`` is the tool (fit, errors, flux, table,
figure). sherpa does the folding, the statistics, the minimising and the confidence
intervals. May import tools_registry's helpers (file names, compressed inputs) and
nothing above tools_registry.
"""
