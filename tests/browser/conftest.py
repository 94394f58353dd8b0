"""Browser tests: a live server on 127.0.0.1 and Playwright driving Debian's Chromium.

When no Chromium is found the tests are skipped with the reason shown; CI installs it, so there they always run.
"""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from retail import create_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CI") and not CHROMIUM:
        raise pytest.UsageError("CI must run the browser tests: install Debian's chromium")
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM:
                item.add_marker(pytest.mark.skip(reason="no Chromium found (install Debian's chromium to run the "
                                                        "browser tests; CI does)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, not a downloaded build; the flags keep it off the network this machine does not have.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]}


@pytest.fixture(scope="session")
def _live_app(_schema_app):
    # A second app on the same database, with CSRF switched ON as in production.
    return create_app({"TESTING": False, "ENV_NAME": "testing", "SECRET_KEY": "browser-tests",
                       "WTF_CSRF_ENABLED": True, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                       "RETAIL_ALLOW_LOOPBACK_FETCH": True})


@pytest.fixture(scope="session")
def _live_server_url(_live_app):
    server = make_server("127.0.0.1", 0, _live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def live_server(app, _live_server_url):
    """The base URL of the running app; the `app` fixture has emptied the database first."""
    return _live_server_url


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}}  # a phone, as officers use


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    # Wait for the answer: a test that goes to another page straight after would cancel the sign-in in flight (a
    # retailer's walk once landed back on the sign-in page that way).
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


ARTIFACTS = os.environ.get("TEST_ARTIFACTS", os.path.join("test-results", "screenshots"))


def screenshot(page, name: str) -> str:
    """Keep a full-page screenshot of a walk's step in the test artefacts (test-results/screenshots by default)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


def record_fetches(fetcher, monkeypatch) -> list:
    """Every (url, FetchResult) the monitor's fetcher answers from now on, to prove what a browser asked for."""
    asked = []
    real_fetch = fetcher.fetch

    def recording_fetch(url, **kwargs):
        result = real_fetch(url, **kwargs)
        asked.append((url, result))
        return result

    monkeypatch.setattr(fetcher, "fetch", recording_fetch)
    return asked
