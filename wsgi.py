"""gunicorn entry point: ``gunicorn -k vo_service.gunicorn_worker.HeraGeventWorker wsgi:app``
(configuration from HERA_* variables; the worker class is gevent's, answering blocked WAITs on stop)."""
from vo_service import create_app

app = create_app()
