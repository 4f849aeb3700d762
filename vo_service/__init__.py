"""Hera's composition root: the application factory, the services built from the
configuration (one construction for the web processes and the workers), the ``hera``
command, the web pages and the web server.

The top layer: it may import every other package, and none imports it.
"""

__all__ = ["create_app"]


def __getattr__(name):
    # imported on first use, not with the package: the web server process
    # (vo_service.web_server) must import nothing of the application before gevent patches
    if name == "create_app":
        from .app import create_app  # on first use, after gevent has patched (see above)
        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
