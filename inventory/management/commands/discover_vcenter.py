"""`manage.py discover_vcenter --url URL --username USER [--insecure] [--name NAME]`

Saves the connection (the password encrypted, from VCENTER_PASSWORD or a prompt) and runs the
same discovery as the "Discover now" button, here and now rather than in the worker.
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from core.jobs import JobError
from inventory.discovery.connect import parse_url
from inventory.discovery.discover import discover
from inventory.models import VCenter

COUNTED = ("clusters", "hosts", "datastores", "networks", "vms", "disks", "nics", "cdroms", "snapshots")


class Command(BaseCommand):
    help = "Discover a vCenter's inventory with pyvmomi and store it (password from VCENTER_PASSWORD or a prompt)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", required=True, help="vcenter.example.com, host:port or https://host:port/sdk"
        )
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", help="name of the connection (default: the URL's host name)")
        parser.add_argument(
            "--insecure",
            action="store_true",
            help="do not verify the TLS certificate (self-signed vCenter you trust)",
        )

    def handle(self, *args, url, username, name=None, insecure=False, **options):
        try:
            endpoint = parse_url(url)
        except JobError as exc:
            raise CommandError(str(exc)) from None
        password = os.environ.get("VCENTER_PASSWORD")
        if password is None:
            password = getpass.getpass(f"Password for {username} at {endpoint}: ")
        name = name or endpoint.host
        vcenter, created = VCenter.objects.get_or_create(name=name)
        fields = {"url": url.strip(), "username": username, "password": password, "verify_tls": not insecure}
        changed = [f for f, v in fields.items() if getattr(vcenter, f) != v]
        for f in changed:
            setattr(vcenter, f, fields[f])
        if changed:
            vcenter.save(update_fields=[*changed, "last_updated"])
        self.stdout.write(f"{'Added' if created else 'Using'} vCenter connection {name!r} ({endpoint})")

        def report(percent, text):
            if options.get("verbosity", 1) > 1:
                self.stdout.write(f"[{int(percent):3d}%] {text}")

        try:
            summary = discover(vcenter, report=report)
        except JobError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{summary['vcenter']}: {summary['version']} (instance {summary['instance_uuid']})")
        for kind in COUNTED:
            counts = summary[kind]
            gone = counts.get("vanished", counts.get("removed", 0))
            self.stdout.write(
                f"  {kind:<11} {counts['found']:>6} found, {counts['created']} new, "
                f"{counts['updated']} changed, {gone} {'vanished' if kind == 'vms' else 'removed'}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['writes']} rows written in {summary['round_trips']} PropertyCollector calls"
            )
        )
