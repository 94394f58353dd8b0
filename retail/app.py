"""The app factory (kept out of `retail/__init__` so `import retail.scrapers.classify` does not build a web app)."""
import os

from flask import Flask, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from . import server_timing
from .config import load_config
from .extensions import bootstrap, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        "retail",  # the package, as before the factory moved here: same root and instance paths
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(__file__), os.pardir, "templates"),
        static_folder=os.path.join(os.path.dirname(__file__), os.pardir, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))
    register_extensions(app)
    register_request_guards(app)
    register_security(app)
    register_scoping(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    server_timing.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    from . import accounts, audit  # noqa: F401  (register the flush hooks)

    @login_manager.user_loader
    def load_user(session_id: str):
        from .accounts import load_session_user

        return load_session_user(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        from .access import wants_json

        if wants_json():
            return jsonify(error="authentication required"), 401
        flash(login_manager.login_message, "info")
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def register_security(app: Flask) -> None:
    from . import security

    security.init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Foreign keys are off by default in SQLite; WAL and a busy timeout let the web app, the scheduler and the
    # CLI share the file without "database is locked" errors.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, and commits get much cheaper
        cursor.execute("PRAGMA busy_timeout=10000")
        # Deleted rows are overwritten, not left in free pages: an erased child's details must not be recoverable.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def register_request_guards(app: Flask) -> None:
    """Refuse, with a 400, text no database column can hold: PostgreSQL rejects a NUL character even in a
    comparison, so a search for one would otherwise be a 500. Numbers from the address or a form are bounded to
    what an integer column holds (a 25-digit id or page overflows the database)."""
    from .validation import BoundedIntConverter, BoundedRequest, MAX_PAGE

    app.request_class = BoundedRequest
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def refuse_impossible_pages():
        for name in ("page", "per_page"):
            raw = request.args.get(name)
            if raw is not None and raw.strip() and not (
                    raw.strip().isascii() and raw.strip().isdigit() and int(raw) <= MAX_PAGE):
                abort(400, description=f"There is no page '{raw[:20]}': use a page number from 1 to {MAX_PAGE}.")

    @app.before_request
    def refuse_nul_characters():
        values = request.args.values() if request.method in ("GET", "HEAD") else [
            *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400)


def register_scoping(app: Flask) -> None:
    """Every request reads and writes as the signed-in user's authority (see retail.scoping)."""
    from flask_login import current_user

    from . import scoping

    @app.before_request
    def start_scope():
        # Loading the user runs unscoped (the scope is not set yet); everything after is scoped.
        user = current_user._get_current_object()
        scoping.set_scope(scoping.scope_for(user))

    @app.teardown_request
    def end_scope(exc=None):
        from flask import g

        if g.get("_retail_scope") is not None:
            try:
                scoping.set_scope(None)
            except Exception:  # a broken connection: the session is discarded anyway
                db.session.rollback()
        g.pop("_retail_criteria", None)


def register_blueprints(app: Flask) -> None:
    from .blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from .access import wants_json

    messages = {
        400: "The request could not be understood.",
        403: "You do not have permission to see this page.",
        404: "There is nothing at this address.",
        405: "That action is not allowed here.",
        409: "Someone else changed this record while you were editing it.",
        413: "The file is too large. The limit is {limit} MB.",
        500: "Something went wrong on our side. The error has been logged.",
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if code >= 500:
            db.session.rollback()
        message = messages.get(code, "Error").format(limit=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
        if code == 400 and isinstance(error, HTTPException) and error.description != type(error).description:
            message = error.description  # a message written for the user (abort(400, description=...))
        if isinstance(error, CSRFError):
            message = "The form had expired or was sent twice. Please reload the page and try again."
        # What the exception says about the answer (a 405's Allow, a 401's WWW-Authenticate) is kept.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"] \
            if isinstance(error, HTTPException) else []
        if wants_json():
            return jsonify(error=message, status=code), code, headers
        return render_template("errors/error.html", code=code, message=message), code, headers

    for code in messages:
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, render_error)


def register_template_helpers(app: Flask) -> None:
    from . import access, boroughs, labels, nav, scoping, timeutil
    from .letters import wording
    from .rules import enforcement, items

    app.jinja_env.filters["datetime"] = timeutil.format_datetime
    app.jinja_env.filters["date"] = timeutil.format_date
    app.jinja_env.filters["borough"] = boroughs.borough_name
    # The law's words for stored codes, so no page shows a raw code.
    app.jinja_env.globals["item_label"] = items.category_label
    app.jinja_env.globals["court_outcome_labels"] = enforcement.COURT_OUTCOME_LABELS
    app.jinja_env.globals["value_label"] = labels.value_label
    # The passages of a letter the authority words itself (issue 12 part 2).
    app.jinja_env.globals["letter_wording"] = wording.render
    app.jinja_env.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)

    @app.context_processor
    def inject():
        return {"has_role": access.has_role, "Role": access.Role, "STAFF": access.STAFF, "nav_items": nav.nav_items,
                "may_change": scoping.may_change}


def register_commands(app: Flask) -> None:
    from .cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
