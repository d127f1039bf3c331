"""The portal as uvicorn serves it (docker-compose.yml, the Dockerfile, scripts/demo, the tests' server).

uvicorn runs with --no-proxy-headers: X-Forwarded-For and X-Forwarded-Proto are read here, and only from
the proxies in settings.TRUSTED_PROXIES (none by default). Trusting them from anyone would let every
client choose the address the sign-in throttle counts, and claim HTTPS. Oversized request bodies are
refused before Django reads them (avsportal/body_limit.py).
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from avsportal.body_limit import RequestBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
django_application = get_asgi_application()
application = ProxyHeadersMiddleware(
    RequestBodyLimit(django_application), trusted_hosts=settings.TRUSTED_PROXIES
)
