"""`manage.py deploy_connector --plan NAME --ova FILE [--datacenter DC] [--cluster C] [--datastore DS]
[--network PG] [--folder F] [--resource-pool P] [--ssh] [--wait-seconds N]`

Deploys the plan's HCX Connector here and now, as the "hcx.deploy_connector" job does in the
worker, and records the plan's "deploy" set-up step the same way. The appliance's settings come
from the plan, the OVA from the OVA folder (HCX_OVA_DIR; a path elsewhere is refused), the two
appliance passwords from the plan's HCX connection. HCX_ADMIN_PASSWORD / HCX_ROOT_PASSWORD, when
set, are first stored (encrypted) on that connection; passwords are never command-line arguments.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.choices import AuditAction
from core.jobs import JobError
from core.models import AuditEntry
from hcx.deploy.deploy import DEFAULT_WAIT_SECONDS
from hcx.deploy.jobs import prepare_deployment, run_deployment
from hcx.deploy.placement import Placement
from hcx.models import HcxConnection, HcxPlan
from hcx.setup.runner import active_setup_job

ENVIRONMENT = {"admin_password": "HCX_ADMIN_PASSWORD", "root_password": "HCX_ROOT_PASSWORD"}


class Command(BaseCommand):
    help = "Deploy a plan's HCX Connector OVA into its vCenter and wait for the appliance API."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="name (site) of the HCX deployment plan")
        parser.add_argument(
            "--ova", required=True, help="file name of the .ova in the OVA folder (HCX_OVA_DIR)"
        )
        parser.add_argument("--datacenter", default="")
        parser.add_argument("--cluster", default="")
        parser.add_argument("--datastore", default="")
        parser.add_argument(
            "--network", default="", help="port group (default: the plan's management profile's)"
        )
        parser.add_argument("--folder", default="")
        parser.add_argument("--resource-pool", default="")
        parser.add_argument("--ssh", action="store_true", help="enable SSH on the appliance")
        parser.add_argument("--wait-seconds", type=float, default=DEFAULT_WAIT_SECONDS)

    def handle(self, *args, **options):
        plan = HcxPlan.objects.select_related("vcenter").filter(name=options["plan"]).first()
        if plan is None:
            names = ", ".join(HcxPlan.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No HCX plan named {options['plan']!r}; plans: {names}")
        self.store_passwords_from_environment(plan)
        busy = active_setup_job(plan)
        if busy is not None:
            raise CommandError(
                f"A set-up job is running for {plan}: {busy.name} (#{busy.pk}). Wait for it to finish."
            )
        placement = Placement.from_dict(options)

        def report(percent, text):
            self.stdout.write(f"[{int(percent):3d}%] {text}")

        try:
            path, spec = prepare_deployment(plan, options["ova"], placement, ssh_enabled=options["ssh"])
            AuditEntry.record(
                None,
                AuditAction.HCX_CONNECTOR_DEPLOY,
                plan,
                via="deploy_connector command",
                vm_name=spec.vm_name,
                ova=path.name,
                placement=placement.as_dict(),
            )
            result = run_deployment(
                plan,
                path.name,
                spec,
                wait_seconds=options["wait_seconds"],
                report=report,
                warn=lambda text: self.stderr.write(text),
            )
        except JobError as exc:
            raise CommandError(str(exc)) from None
        verb = "Deployed" if result["imported"] else "Found"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result['vm_name']} ({result['vm']}); {result['url']} answers")
        )

    def store_passwords_from_environment(self, plan: HcxPlan):
        given = {field: os.environ[name] for field, name in ENVIRONMENT.items() if os.environ.get(name)}
        if not given:
            return
        with transaction.atomic():
            connection, _ = HcxConnection.objects.select_for_update().get_or_create(plan=plan)
            for field, value in given.items():
                setattr(connection, field, value)
            connection.save()
            AuditEntry.record(
                None,
                AuditAction.HCX_CONNECTION_CHANGE,
                plan,
                via="deploy_connector command",
                fields=sorted(given),
            )
        names = " and ".join(ENVIRONMENT[f] for f in given)
        self.stdout.write(f"Stored {names} (encrypted) on the HCX connection of {plan}")
