"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from retail import create_app

app = create_app()

# What is loaded by now (the app, SQLAlchemy's mappers, Jinja, WeasyPrint, lxml and the classifier's rules: about
# 200,000 objects) lives as long as the process. Freezing it keeps Python's full garbage collections, which come
# every few requests, from walking it all again: each such collection cost a request about 100 ms, the p90 of a
# large chain's business page (issue 15). Each gunicorn worker imports this module itself, after the fork.
gc.freeze()
