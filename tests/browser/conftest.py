"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server.

Playwright's own browser download does not work here, so the system Chromium is launched.
Without it the tests are skipped with the reason printed (CI installs it and fails on skips).
"""

import os
import shutil

import pytest

from tests.support.csp import watch_for_csp_violations

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set
# up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A page of its own; whatever the test does, the Content-Security-Policy refuses nothing
    on it (no inline script or style slipped into a template)."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = watch_for_csp_violations(page)
    yield page
    context.close()
    assert refused == []


@pytest.fixture
def log_in(page):
    def as_user(username: str, password: str = "pw"):
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")

    return as_user
