"""Settings from the environment (12-factor), with a development and a test flavour."""
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "retail.sqlite3")
    # Heroku-style URLs still say postgres://, which SQLAlchemy 2 no longer accepts; psycopg 3 is our driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def engine_options(url: str) -> dict:
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # PostgreSQL's JIT costs more than it saves on the dashboard's short aggregate queries.
        options["connect_args"] = {"options": "-c jit=off"}
    return options


class ConfigError(RuntimeError):
    """Raised when the app is started without a setting it cannot run safely without."""


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config dict. `overrides` (tests) win over the environment."""
    overrides = dict(overrides or {})
    env = overrides.get("ENV_NAME") or os.environ.get("RETAIL_ENV", "production")
    testing = bool(overrides.get("TESTING"))
    development = env == "development"
    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if development or testing:
            secret = "dev-only-not-secret"
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment (for example "
                "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`), "
                "or set RETAIL_ENV=development for local work."
            )
    config = {
        "ENV_NAME": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url(instance_path)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not (development or testing),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not (development or testing),
        "WTF_CSRF_TIME_LIMIT": None,  # officers keep a form open on a phone for a long time
        "MAX_CONTENT_LENGTH": int(os.environ.get("RETAIL_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)),
        "BOOTSTRAP_SERVE_LOCAL": True,  # officers' networks and CI have no CDN
        "BOOTSTRAP_BOOTSWATCH_THEME": None,
        # Where the public reaches the app, e.g. https://knives.example.gov.uk: the API's links and OpenAPI
        # `servers` start with it (never with the request's Host header). Unset: links are site-relative.
        "RETAIL_PUBLIC_URL": os.environ.get("RETAIL_PUBLIC_URL", "").strip(),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto we trust (sign-in throttling counts
        # per client address). 0: the connecting address is the client's.
        "RETAIL_TRUSTED_PROXIES": int(os.environ.get("RETAIL_TRUSTED_PROXIES", "0") or 0),
        "REGISTER_PAGE_SIZE": 25,
        # Loopback only (the demo shop, tests); every other private or special-purpose address is always refused.
        "RETAIL_ALLOW_LOOPBACK_FETCH": env_flag("RETAIL_ALLOW_LOOPBACK_FETCH"),
        # Hard limits: seconds of network time per page fetch, and wall-clock seconds per store check.
        "RETAIL_FETCH_DEADLINE": float(os.environ.get("RETAIL_FETCH_DEADLINE", "60")),
        "RETAIL_STORE_DEADLINE": float(os.environ.get("RETAIL_STORE_DEADLINE", "1800")),
        "RETAIL_CONTACT_URL": os.environ.get("RETAIL_CONTACT_URL", "https://example.invalid/knife-retail-tracker"),
        "RETAIL_FETCH_MIN_HOST_DELAY": float(os.environ.get("RETAIL_FETCH_MIN_HOST_DELAY", "5")),
        # A web request's rescore runs once its response is sent (retail/scoring/rescoring.py); off: before it.
        "RESCORE_AFTER_RESPONSE": env_flag("RETAIL_RESCORE_AFTER_RESPONSE", True),
        # A Server-Timing header with each request's SQL time (benchmarks, developers); see retail/server_timing.py.
        "RETAIL_SERVER_TIMING": env_flag("RETAIL_SERVER_TIMING"),
        # Full-page screenshots of listings with a finding, by headless Chromium (issue 13 part 5). Off in tests
        # (a browser per store check); the evidence tests turn it on.
        "RETAIL_MONITOR_SCREENSHOTS": env_flag("RETAIL_MONITOR_SCREENSHOTS", not testing),
        "TIMEZONE": "Europe/London",
        # Email (issue 12): the scheduler sends the outbox through RETAIL_MAIL_BACKEND: "smtp", "notify" (GOV.UK
        # Notify) or "none" (messages wait in the outbox, shown on /outbox). See README "Letters and notifications".
        "RETAIL_MAIL_BACKEND": os.environ.get("RETAIL_MAIL_BACKEND", "none").strip().lower(),
        "RETAIL_MAIL_FROM": os.environ.get("RETAIL_MAIL_FROM", "trading.standards@example.gov.uk"),
        "RETAIL_SMTP_HOST": os.environ.get("RETAIL_SMTP_HOST", "127.0.0.1"),
        "RETAIL_SMTP_PORT": int(os.environ.get("RETAIL_SMTP_PORT", "25") or 25),
        "RETAIL_SMTP_USERNAME": os.environ.get("RETAIL_SMTP_USERNAME", ""),
        "RETAIL_SMTP_PASSWORD": os.environ.get("RETAIL_SMTP_PASSWORD", ""),
        "RETAIL_SMTP_STARTTLS": env_flag("RETAIL_SMTP_STARTTLS"),
        "RETAIL_NOTIFY_API_KEY": os.environ.get("RETAIL_NOTIFY_API_KEY", ""),
        # A Notify email template whose subject is ((subject)) and body ((body)), plus ((link_to_file)) for the PDF.
        "RETAIL_NOTIFY_TEMPLATE_ID": os.environ.get("RETAIL_NOTIFY_TEMPLATE_ID", ""),
    }
    if "RETAIL_ALLOW_PRIVATE_FETCH" in os.environ:
        # Its replacement allows loopback only; say so rather than let a deployment think private ranges work.
        log.warning("RETAIL_ALLOW_PRIVATE_FETCH is no longer read: set RETAIL_ALLOW_LOOPBACK_FETCH=1 to let the "
                    "monitor fetch loopback addresses (other private addresses are always refused)")
    if testing:
        config.update({"WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False})
    config.update(overrides)
    return config
