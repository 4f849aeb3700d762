"""Hera's web service: the application factory, configuration, the web pages and the ``hera`` command."""

__all__ = ["create_app"]


def __getattr__(name):
    # imported on first use, not with the package: the web server process
    # (vo_service.web_server) must import nothing of the application before gevent patches
    if name == "create_app":
        from .app import create_app  # on first use, after gevent has patched (see above)
        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
