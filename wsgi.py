"""gunicorn entry point: ``gunicorn -k gevent wsgi:app`` (configuration from HERA_* variables)."""
from vo_service import create_app

app = create_app()
