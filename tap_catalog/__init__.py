"""The TAP 1.1 service of the INTEGRAL catalogue.

- the declared tables (``tables/*.toml``, :mod:`.tableset`), TAP_SCHEMA (:mod:`.tap_schema`)
  and VOSI tables and capabilities (:mod:`.vosi`);
- ADQL 2.1 (:mod:`.adql`: parser, syntax tree, limits; ``adql.translation``: the
  translator and one dialect per database);
- the access rule of proprietary rows (:mod:`.row_access`), the catalogue's database
  (:mod:`.database`), ingest of the archives' tables (:mod:`.ingest`) and the demo
  catalogue (:mod:`.demo`);
- running a query (:mod:`.query`), the output formats (:mod:`.formats`), the TAP
  endpoints (:mod:`.http`), async queries (:mod:`.async_query`) and the result sinks
  through which a result goes anywhere besides the client (:mod:`.sinks`).

May import uws, accounts, fetching and integral; never workspace, tools_registry or
vo_service (the workspace plugs ``DEST=`` in through a result sink).
"""
