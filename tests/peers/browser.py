"""Headless Chromium driven by Playwright against pytest-django's live server.

Debian's /usr/bin/chromium, never a downloaded browser; tests are skipped, saying why, when it
is not installed (`apt-get install chromium`). Tests using `page` need committed data:
mark them `@pytest.mark.django_db(transaction=True)`.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API keeps an event loop running in this thread; Django's ORM would
    # otherwise refuse the fixtures' and tests' queries as if they came from async code. The
    # browser lasts a module, not the session: while that loop runs, Django's test client cannot
    # call an async view (async_to_sync refuses), and pytest-django runs every transactional test,
    # browser or not, after the others, so later modules' tests would meet it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) on the live server; `page.goto("/path/")` works."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    """`sign_in(user, password)`: through the real login form, as a person would."""
    from playwright.sync_api import expect

    def sign_in(user, password):
        page.goto("/login/")
        page.get_by_label("User name").fill(user.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("whoami")).to_contain_text(user.get_username())
        return page

    return sign_in
