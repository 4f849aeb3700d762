"""Hera's tools: their declarations (``declarations/*.toml``, data, not code), the registry
that loads them (built-ins, ``HERA_TOOLS_PATH``, ``hera.tools`` entry points), parameter
checking, DataLink service descriptors, the executor that runs a tool in a UWS job, and
the built-in tools (``ftools/``: FITS table utilities; ``scw/``: science-window tools).

May import workspace, tap_catalog, uws, accounts, fetching and integral; never
vo_service. An executor reaches the services only through its job context.
"""
