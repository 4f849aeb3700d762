"""Hera's web service: the application factory, configuration, users and the ``hera`` command."""
from .app import create_app

__all__ = ["create_app"]
