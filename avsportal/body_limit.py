"""Request bodies over the limit are refused before Django reads them.

Django's ASGI handler reads a whole request body, to a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE,
before it routes the request or looks at who sent it: without this, anyone could fill the disk with one
anonymous POST. A body announced too large (Content-Length) is refused without reading a byte; one
without a length (chunked) is counted as it arrives and cut at the limit. The limit is REQUEST_MAX_MB,
and HCX_OVA_MAX_MB for the OVA upload (whose view still checks who may upload).
"""

import json

from django.conf import settings
from django.urls import Resolver404, resolve

MB = 2**20
# The multipart envelope around an OVA (boundaries, the CSRF token) is a few hundred bytes.
ENVELOPE = MB
LARGER_LIMITS_MB = {"hcx:hcxplan_deploy_ova": lambda: settings.HCX_OVA_MAX_MB}


def limit_for(path: str) -> int:
    try:
        larger = LARGER_LIMITS_MB.get(resolve(path).view_name)
    except Resolver404:
        larger = None
    return (larger() if larger else settings.REQUEST_MAX_MB) * MB + ENVELOPE


def declared_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


async def refuse(send, limit: int, path: str) -> None:
    api = path.startswith("/api/")
    text = f"Request body too large: at most {limit // MB} MB here."
    body = json.dumps({"detail": text}).encode() if api else text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json" if api else b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = limit_for(scope["path"])
        length = declared_length(scope)
        if length is not None and length > limit:
            return await refuse(send, limit, scope["path"])
        received, refused = 0, False

        async def counted_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    # Django drops what it has read when the client goes away, and answers nothing.
                    refused = True
                    await refuse(send, limit, scope["path"])
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        await self.app(scope, counted_receive, guarded_send)
