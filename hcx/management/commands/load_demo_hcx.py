"""`manage.py load_demo_hcx --service-url URL --admin-url URL`: point the demo HCX plan's connection at
the HCX simulator `scripts/demo` started (its HCXSIM_READY line gives both URLs). Idempotent: a run
with the same URLs changes nothing; new URLs (a restarted simulator) are taken over."""

from django.core.management.base import BaseCommand, CommandError

from hcx import demo


class Command(BaseCommand):
    help = "Connect the demo HCX plan to a running HCX simulator (after load_demo)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--service-url", required=True, help="the simulator's service API, e.g. http://127.0.0.1:8443"
        )
        parser.add_argument(
            "--admin-url", required=True, help="the simulator's appliance API, e.g. http://127.0.0.1:9443"
        )

    def handle(self, *args, **options):
        try:
            result = demo.connect_simulator(options["service_url"], options["admin_url"])
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if not result.changed:
            self.stdout.write(f"Demo HCX plan {result.plan} already connected to {options['service_url']}.")
            return
        verb = "connected" if result.created else "reconnected"
        extra = (
            "; set-up steps start again against the new simulator"
            if result.moved and not result.created
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo HCX plan {result.plan} {verb} to the HCX simulator at {options['service_url']}{extra}."
            )
        )
