"""`manage.py deploy_connector --vcenter NAME --ova PATH --ip ... --prefix ... --gateway ... --dns ...
--hostname ... --network ... [--datastore ...] [--cluster ...] [--wait-url URL]`

Deploys the HCX Connector OVA into a stored vCenter connection here and now, as the
"hcx.deploy_connector" job does in the worker. The appliance passwords come from the
environment (HCX_ADMIN_PASSWORD, HCX_ROOT_PASSWORD), never from the command line.
"""

import os

from django.core.management.base import BaseCommand, CommandError

from core.jobs import JobError
from hcx.deploy.deploy import DEFAULT_WAIT_SECONDS, deploy_connector
from hcx.deploy.ova import open_package
from hcx.deploy.spec import ConnectorSpec
from inventory.discovery.connect import connect, disconnect, parse_url
from inventory.models import VCenter


class Command(BaseCommand):
    help = "Deploy the HCX Connector OVA into a vCenter and wait for its appliance API (passwords from the environment)."

    def add_arguments(self, parser):
        parser.add_argument("--vcenter", required=True, help="name of a stored vCenter connection")
        parser.add_argument(
            "--ova", required=True, help="the OVA, a folder with the .ovf and disks, or the .ovf"
        )
        parser.add_argument("--name", dest="vm_name", help="VM name (default: the host name's first label)")
        parser.add_argument("--hostname", required=True)
        parser.add_argument("--ip", required=True)
        parser.add_argument("--prefix", required=True, type=int)
        parser.add_argument("--gateway", required=True)
        parser.add_argument("--dns", default="", help="comma-separated DNS servers")
        parser.add_argument("--search-domains", default="", help="comma-separated search domains")
        parser.add_argument("--ntp", default="", help="comma-separated NTP servers")
        parser.add_argument("--network", required=True, help="port group for the VSMgmt network")
        parser.add_argument("--datastore", default="")
        parser.add_argument("--cluster", default="")
        parser.add_argument("--resource-pool", default="")
        parser.add_argument("--folder", default="")
        parser.add_argument("--ssh", action="store_true", help="enable SSH on the appliance")
        parser.add_argument(
            "--wait-url", default="", help="URL to poll after power-on (default https://<ip>:9443/)"
        )
        parser.add_argument("--wait-seconds", type=float, default=DEFAULT_WAIT_SECONDS)

    def handle(self, *args, **options):
        vcenter = VCenter.objects.filter(name=options["vcenter"]).first()
        if vcenter is None:
            names = ", ".join(VCenter.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No vCenter connection named {options['vcenter']!r}; stored: {names}")
        passwords = {
            "admin_password": os.environ.get("HCX_ADMIN_PASSWORD", ""),
            "root_password": os.environ.get("HCX_ROOT_PASSWORD", ""),
        }
        fields = (
            "hostname",
            "ip",
            "prefix",
            "gateway",
            "dns",
            "search_domains",
            "ntp",
            "network",
            "datastore",
            "cluster",
            "resource_pool",
            "folder",
        )
        data = {name: options[name] for name in fields}
        data["vm_name"] = options["vm_name"] or options["hostname"].split(".")[0]
        data["ssh_enabled"] = options["ssh"]

        def report(percent, text):
            self.stdout.write(f"[{int(percent):3d}%] {text}")

        try:
            spec = ConnectorSpec.from_dict(data, **passwords)
            package = open_package(options["ova"])
            endpoint = parse_url(vcenter.url)
            si = connect(vcenter.url, vcenter.username, vcenter.password, verify_tls=vcenter.verify_tls)
            try:
                result = deploy_connector(
                    si,
                    package,
                    spec,
                    nfc_host=f"{endpoint.host}:{endpoint.port}",
                    verify_tls=vcenter.verify_tls,
                    answer_check=options["wait_url"] or None,
                    wait_seconds=options["wait_seconds"],
                    report=report,
                    warn=lambda text: self.stderr.write(text),
                )
            finally:
                disconnect(si)
        except JobError as exc:
            raise CommandError(str(exc)) from None
        verb = "Deployed" if result["imported"] else "Found"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result['vm_name']} ({result['vm']}); {result['url']} answers")
        )
