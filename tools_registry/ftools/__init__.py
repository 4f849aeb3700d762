"""FITS table tools in the spirit of HEASoft's ftools: ftlist, ftcopy, fsort, fselect,
fstatistic, fcalc and fmerge, with CFITSIO's extended file name syntax
(:mod:`tools_registry.filename`) and a safe expression language
(:mod:`tools_registry.ftools.expression`). astropy.io.fits does the FITS work."""
