"""The portal as uvicorn serves it (docker-compose.yml, the Dockerfile, scripts/demo, the tests' server).

uvicorn runs with --no-proxy-headers: X-Forwarded-For and X-Forwarded-Proto are read here, and only from
the proxies in settings.TRUSTED_PROXIES (none by default). Trusting them from anyone would let every
client choose the address the sign-in throttle counts, and claim HTTPS.
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avsportal.settings")
application = ProxyHeadersMiddleware(get_asgi_application(), trusted_hosts=settings.TRUSTED_PROXIES)
