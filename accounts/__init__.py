"""Hera's accounts: users, their groups and API tokens, and who a request is.

- :mod:`accounts.users` — the user store (names, groups, quotas, token digests), plain
  functions on an SQLAlchemy engine, usable outside requests (workers read a job owner's
  groups and quota from it);
- :mod:`accounts.auth` — the identity of a request: credentials (Bearer, HTTP Basic, the
  web pages' session cookie, its signing key and its CSRF token), ``current_user()`` and
  ``current_owner()``, ``login_required``, ``AuthError`` and its challenge headers;
- :mod:`accounts.signin_limit` — failed sign-ins counted per client address in Redis.

It lies under every package that serves requests or runs jobs (``uws`` and above) and
imports Flask, werkzeug and SQLAlchemy only: none of Hera's other packages. Inside a
request it finds the database engine and the Redis client at
``current_app.extensions["hera"]``, where the application factory puts them. The
packages above receive the identity of a request as a plain value (a
:class:`accounts.users.User`, or an owner's name).
"""
