"""Result sinks: where a TAP result goes besides the client.

TAP itself keeps no result but an async job's ``result``. A package above it (the
workspace: ``DEST=`` and the saving endpoint ``/users/{name}/tap``) registers a sink at
start-up in the service's :class:`ResultSinks`; TAP hands every result to the sinks:

- a sync result as its streaming response, with the requesting user: the sink returns
  the response to send (the same one, one whose stream is also kept, or a redirect to
  where the result went);
- an async job (a ``uws.JobContext``) before its query runs, so that a sink refuses a
  bad destination before the work, and again once its result ``result`` is written.

A sink signals a refused sync request with :class:`tap_catalog.query.TapError` and a
refused job with any exception, whose message becomes the job's error.
"""
from __future__ import annotations

from typing import Protocol

from flask import Response

from .formats import Renderer


class ResultSink(Protocol):
    def sync_result(self, response: Response, renderer: Renderer, user) -> Response:
        """The response to send for a sync query's ``response`` (``user``: the requesting
        user, or None)."""

    def check_job(self, job) -> None:
        """Raise if the async ``job`` asks for something this sink will refuse."""

    def job_result(self, job, renderer: Renderer) -> None:
        """The async ``job`` has written its result ``result``, in ``renderer``'s format."""


class ResultSinks:
    """The sinks registered by name; registering a name again replaces its sink (an app
    built twice in one process registers its sinks twice)."""

    def __init__(self):
        self._sinks: dict[str, ResultSink] = {}

    def register(self, name: str, sink: ResultSink) -> None:
        self._sinks[name] = sink

    def sync_result(self, response: Response, renderer: Renderer, user) -> Response:
        for sink in self._sinks.values():
            response = sink.sync_result(response, renderer, user)
        return response

    def check_job(self, job) -> None:
        for sink in self._sinks.values():
            sink.check_job(job)

    def job_result(self, job, renderer: Renderer) -> None:
        for sink in self._sinks.values():
            sink.job_result(job, renderer)
