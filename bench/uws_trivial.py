"""The trivial job of the UWS benchmark: workers import ``uws_trivial:run``
(``hera worker --preload uws_trivial``); gunicorn serves ``uws_trivial_app:app``."""


def run(job):
    job.add_result("out", b"ok", "text/plain")
