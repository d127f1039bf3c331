"""`manage.py load_demo`: write the St Mary's Health demo estate (idempotent): the estate
(inventory/demo.py), its HCX plan (hcx/demo.py) and its plan of groups and waves (migrations_app/demo.py),
so it lives in the highest of the apps it loads."""

from django.core.management.base import BaseCommand

from hcx import demo as hcx_demo
from inventory import demo
from migrations_app import demo as planning_demo


class Command(BaseCommand):
    help = "Load the demo estate (vcenter.stmarys-health.local, ~300 VMs). Running it again changes nothing."

    def handle(self, *args, **options):
        # The HCX side of the demo (hcx/demo.py): the simulator's port groups join the estate, and
        # the demo HCX plan is added once the estate is there.
        report = demo.load(hcx_demo.with_simulator_networks(demo.build_estate()))
        self.report_estate(report)
        plan, created = hcx_demo.load_plan(demo.VCENTER_NAME)
        self.stdout.write(
            f"Demo HCX plan {plan}: {'created' if created else 'already there, left as it is'}."
        )
        planned = planning_demo.load_planning()
        if planned.skipped:
            self.stdout.write(f"Demo plan (groups and waves) skipped: {planned.skipped}.")
        elif planned.changed:
            self.stdout.write(self.style.SUCCESS("Demo plan: " + "; ".join(planned.made) + "."))
        else:
            self.stdout.write("Demo plan (groups, waves) already there, left as it is.")

    def report_estate(self, report):
        changed = {name: r for name, r in report.items() if r["created"] or r["updated"] or r["removed"]}
        vms = report["vms"]
        total = vms["created"] + vms["updated"] + vms["unchanged"]
        if not changed:
            self.stdout.write(
                f"Demo estate already loaded: {total} VMs in {demo.VCENTER_NAME}, nothing changed."
            )
            return
        details = ", ".join(
            f"{name} +{r['created']} ~{r['updated']} -{r['removed']}" for name, r in changed.items()
        )
        self.stdout.write(
            self.style.SUCCESS(f"Demo estate loaded: {total} VMs in {demo.VCENTER_NAME} ({details}).")
        )
