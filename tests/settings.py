"""Test settings: the production module with a test key and plain-HTTP test clients."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from avsportal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True

# The set-up jobs run against the HCX simulator started with a high --time-scale: look often,
# retry fast, so that a 20-minute (simulated) service mesh is a few seconds of test.
HCX_SETUP = {  # noqa: F405
    **HCX_SETUP,  # noqa: F405
    "POLL_SECONDS": 0.1,
    "HTTP_TIMEOUT": 5.0,
    "RETRY_ATTEMPTS": 3,
    "RETRY_BACKOFF": 0.05,
    "WAIT_SECONDS": {"default": 60, "avs_addon": 60, "service_mesh": 60, "extension": 60},
    "APPENGINE_SETTLE_SECONDS": 0.05,
    "STARTUP_WAIT_SECONDS": 30.0,
    "STARTUP_RETRY_SECONDS": 0.05,
}
# No pause between failed logins (a test that checks the back-off sets one); the limit stays as shipped.
HCX_LOGIN = {**HCX_LOGIN, "BACKOFF_SECONDS": 0.0}  # noqa: F405

# The simulators (HCX, govmomi vCenter, webhook receivers) listen on loopback.
OUTBOUND_ALLOW = ["127.0.0.0/8", "::1"]
