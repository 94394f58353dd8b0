"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from retail import create_app

app = create_app()
