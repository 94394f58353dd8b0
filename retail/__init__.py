"""The knife retail compliance tracker: a Flask app for Trading Standards and police test-purchase teams.

Importing the package builds nothing: the app factory lives in `retail.app` and is loaded on first use, so command-line
tools such as `python -m retail.scrapers.classify` start without Flask and the database layer (issue 13).
"""


def create_app(config: dict | None = None):
    from .app import create_app as factory

    return factory(config)
