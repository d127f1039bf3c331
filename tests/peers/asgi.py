"""The portal's ASGI application served by uvicorn (as scripts/demo serves it), in a thread of the
test process, on a free port, against the test database.

For what only an ASGI server does: server-sent event streams that stay open. Tests using it need
committed data: mark them `@pytest.mark.django_db(transaction=True)`. `asgi_server.url` is the base
URL; `asgi_server.cookies(user)` signs a user in and gives the session cookie for `requests`.
"""

import socket
import threading
import time
from dataclasses import dataclass

import pytest
from django.conf import settings

STARTUP_SECONDS = 20


@dataclass
class AsgiServer:
    url: str

    def cookies(self, user) -> dict:
        from django.test import Client

        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@pytest.fixture
def asgi_server(transactional_db):
    import uvicorn

    from avsportal.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # As the portal is served: forwarded headers are avsportal/asgi.py's business, not uvicorn's.
    config = uvicorn.Config(
        application, log_level="warning", lifespan="off", timeout_graceful_shutdown=2, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield AsgiServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(10)
    sock.close()
