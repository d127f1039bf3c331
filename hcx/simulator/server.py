"""HTTP plumbing: routing, authentication, HCX/ARM-style error bodies, fault injection, TLS.

Both ports (the HCX service API and the appliance-management API) are ThreadingHTTPServers sharing
one Simulator; every handler runs under the simulator's lock, so state changes are atomic.
"""

import base64
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class SimError(Exception):
    """An error answered in the HCX envelope: `{"success": false, "errors": [{"error", "text"}]}`."""

    def __init__(self, status: int, text: str, error: str | None = None, data: list | None = None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.error = error or {
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            409: "Conflict",
            503: "Service Unavailable",
        }.get(status, "Error")
        self.data = data or []


class ArmError(Exception):
    """An error answered in the ARM shape: `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    raw: bytes
    port: str
    params: dict = field(default_factory=dict)
    username: str | None = None

    def json(self, required=True):
        if not self.raw:
            if required:
                raise SimError(400, "A JSON request body is required")
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            raise SimError(400, "Request body is not valid JSON") from None

    def arg(self, name, default=None):
        return self.query.get(name, default)


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


class Router:
    def __init__(self):
        self.routes = []

    def add(self, method: str, pattern: str, auth: str | None = None):
        """Decorator: `pattern` uses {name} placeholders for one path segment."""
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$")

        def register(func):
            self.routes.append((method, regex, auth, func))
            return func

        return register

    def resolve(self, method: str, path: str):
        path_matched = False
        for route_method, regex, auth, func in self.routes:
            match = regex.match(path)
            if match:
                path_matched = True
                if route_method == method:
                    return func, auth, match.groupdict()
        if path_matched:
            raise SimError(405, f"Method {method} is not allowed on {path}", error="Method Not Allowed")
        return None, None, None


def envelope(data, now_ms: int) -> dict:
    return {"success": True, "completed": True, "time": now_ms, "version": "1.0", "data": data, "errors": []}


def error_body(exc: SimError, now_ms: int) -> dict:
    return {
        "success": False,
        "completed": True,
        "time": now_ms,
        "version": "1.0",
        "data": {},
        "errors": [{"error": exc.error, "text": exc.text, "data": exc.data}],
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HCXSim/1.0"
    sim = None  # set on the subclass built per port
    router = None
    port_name = None

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.sim.config.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self):
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=path,
            raw=raw,
            port=self.port_name,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        sim = self.sim
        if not path.startswith("/__sim__"):
            with sim.lock:
                faults = sim.faults.match_request(self.port_name, self.command, path)
            for fault in faults:
                if fault.kind == "delay":
                    time.sleep(fault.seconds)
            for fault in faults:
                if fault.kind == "drop":
                    if fault.after:
                        self._handle(req)  # done, and its answer lost on the way back
                    # Closing without a status line is what a crashed proxy or a reset looks like.
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if fault.kind == "error":
                    body = fault.body
                    if body is None:
                        body = json.dumps(
                            error_body(SimError(fault.status, "Simulated fault"), sim.clock.now_ms())
                        )
                    self._send(Response(fault.status, body.encode(), content_type=fault.content_type))
                    return
        self._send(self._handle(req))

    def _handle(self, req: Request) -> Response:
        sim = self.sim
        arm = req.path.startswith("/arm/")
        try:
            func, auth, params = self.router.resolve(req.method, req.path)
            if func is None:
                if arm:
                    raise ArmError(404, "InvalidResourceType", f"No route for {req.path}")
                raise SimError(404, f"No such resource: {req.path}")
            req.params = params
            with sim.lock:
                sim.tick()
                self._authenticate(req, auth)
                result = func(sim, req)
            if not isinstance(result, Response):
                result = Response(200, result)
            return result
        except SimError as exc:
            return Response(exc.status, error_body(exc, sim.clock.now_ms()))
        except ArmError as exc:
            return Response(exc.status, {"error": {"code": exc.code, "message": exc.message}})

    def _authenticate(self, req: Request, auth: str | None):
        sim = self.sim
        if auth == "session":
            req.username = sim.sessions.check(req.headers.get("x-hm-authorization"))
            if not sim.state.components["appengine"]:
                raise SimError(503, "The HCX application engine is stopped")
        elif auth == "basic":
            header = req.headers.get("authorization", "")
            ok = False
            if header.lower().startswith("basic "):
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    ok = user == "admin" and password == sim.config.password
                except (ValueError, UnicodeDecodeError):
                    ok = False
            if not ok:
                raise SimError(401, "Appliance management needs HTTP Basic authentication as admin")
        elif auth == "bearer":
            sim.arm_tokens.check(req.headers.get("authorization", ""))

    def _send(self, resp: Response):
        body = resp.body
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        try:
            self.send_response(resp.status)
            if payload or resp.status != 204:
                self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def make_server(
    sim, router: Router, host: str, port: int, port_name: str, tls_context: ssl.SSLContext | None
):
    handler = type(
        f"{port_name.title()}Handler", (Handler,), {"sim": sim, "router": router, "port_name": port_name}
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if tls_context:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    return server


def serve_in_thread(server) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, name=f"hcxsim-{server.server_address[1]}", daemon=True
    )
    thread.start()
    return thread
