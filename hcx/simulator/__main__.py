"""`python -m hcx.simulator --port P --admin-port Q [...]`: run the HCX simulator until interrupted."""

import argparse
import signal
import ssl
import sys
import tempfile
import threading
from pathlib import Path

from . import appliance, arm, control, migrations, service, variants
from .server import Router, make_server, serve_in_thread
from .state import Config, Simulator, self_signed_certificate


def parse_args(argv=None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(
        prog="python -m hcx.simulator", description="Simulated VMware HCX Connector + AVS ARM."
    )
    p.add_argument("--host", default=d.host)
    p.add_argument(
        "--port", type=int, default=8443, help="HCX service API (the 443 role); 0 picks a free port"
    )
    p.add_argument("--admin-port", type=int, default=9443, help="appliance management API (the 9443 role)")
    p.add_argument("--username", default=d.username, help="service API (vSphere SSO) user")
    p.add_argument(
        "--password", default=d.password, help="password of that user and of the appliance 'admin'"
    )
    p.add_argument("--time-scale", type=float, default=d.time_scale, help="simulated seconds per real second")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a fresh self-signed certificate")
    p.add_argument("--client-id", default=d.client_id, help="Entra ID app accepted by the token stub")
    p.add_argument("--client-secret", default=d.client_secret)
    p.add_argument("--subscription", default=d.subscription)
    p.add_argument("--resource-group", default=d.resource_group)
    p.add_argument("--private-cloud", default=d.private_cloud)
    p.add_argument("--cloud-password", default=d.cloud_password, help="cloudadmin password of the AVS side")
    p.add_argument(
        "--link-mbps",
        type=float,
        default=d.link_mbps,
        help="bandwidth the migrations of one service mesh share (each at most 1000 Mbps)",
    )
    p.add_argument(
        "--lockout-after",
        type=int,
        default=d.lockout_after,
        help="failed logins in a row that lock the SSO account (POST /__sim__/unlock frees it)",
    )
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="answer in one of the shapes real HCX may use (hcx/simulator/variants.py); repeatable",
    )
    a = p.parse_args(argv)
    try:
        chosen = variants.parse(a.variant)
    except variants.VariantError as exc:
        p.error(str(exc))
    if a.time_scale <= 0:
        p.error("--time-scale must be positive")
    if a.lockout_after < 1:
        p.error("--lockout-after must be at least 1")
    if a.link_mbps <= 0:
        p.error("--link-mbps must be positive")
    return Config(
        host=a.host,
        port=a.port,
        admin_port=a.admin_port,
        username=a.username,
        password=a.password,
        time_scale=a.time_scale,
        tls=a.tls,
        client_id=a.client_id,
        client_secret=a.client_secret,
        subscription=a.subscription,
        resource_group=a.resource_group,
        private_cloud=a.private_cloud,
        cloud_password=a.cloud_password,
        verbose=a.verbose,
        link_mbps=a.link_mbps,
        lockout_after=a.lockout_after,
        variants=chosen,
    )


def tls_context() -> tuple[ssl.SSLContext, Path]:
    """A context with a fresh self-signed certificate (valid for localhost and 127.0.0.1), and the
    certificate's path, printed so that clients can verify against it instead of turning checks off."""
    cert, key = self_signed_certificate("hcx-connector-sim")
    folder = Path(tempfile.mkdtemp(prefix="hcxsim-tls-"))
    (folder / "cert.pem").write_text(cert)
    (folder / "key.pem").write_text(key)
    (folder / "key.pem").chmod(0o600)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "cert.pem"


def main(argv=None):
    config = parse_args(argv)
    sim = Simulator(config)
    service_router, admin_router = Router(), Router()
    service_router.routes = (
        control.router.routes + arm.router.routes + service.router.routes + migrations.router.routes
    )
    admin_router.routes = appliance.router.routes
    context, cert_path = tls_context() if config.tls else (None, None)
    servers = [
        make_server(sim, service_router, config.host, config.port, "service", context),
        make_server(sim, admin_router, config.host, config.admin_port, "admin", context),
    ]
    scheme = "https" if context else "http"
    service_url, admin_url = (f"{scheme}://{config.host}:{s.server_address[1]}" for s in servers)
    print(
        f"HCX simulator: service API user {config.username!r} password {config.password!r}; "
        f"appliance API user 'admin' password {config.password!r}"
    )
    print(
        f"AVS/ARM: base {service_url}/arm, token {service_url}/arm/<tenant>/oauth2/v2.0/token, "
        f"client id {config.client_id!r} secret {config.client_secret!r}; private cloud "
        f"/subscriptions/{config.subscription}/resourceGroups/{config.resource_group}/.../{config.private_cloud}; "
        f"cloudadmin password {config.cloud_password!r}; time scale {config.time_scale}"
    )
    for server in servers:
        serve_in_thread(server)
    ready = f"HCXSIM_READY service={service_url} admin={admin_url}"
    print(ready + (f" cert={cert_path}" if cert_path else ""), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
