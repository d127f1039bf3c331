"""`manage.py import_rvtools PATH`: import an RVTools export (xlsx, zip or folder of CSVs) now."""

from django.core.management.base import BaseCommand, CommandError

from inventory.rvtools.importer import import_export
from inventory.rvtools.problems import RVToolsError


class Command(BaseCommand):
    help = "Import an RVTools export: an .xlsx, a .zip of RVTools_tab*.csv, or a folder of them."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .xlsx, .zip, .csv or folder")
        parser.add_argument(
            "--vcenter",
            default="",
            help="the vCenter of an export that does not name it (trimmed or anonymised: no VI SDK Server column)",
        )

    def handle(self, path, vcenter="", **options):
        log = (lambda message: self.stdout.write(message)) if options["verbosity"] > 1 else None
        try:
            summary = import_export(path, vcenter=vcenter, log=log)
        except RVToolsError as exc:
            raise CommandError(exc.summary()) from None
        self.stdout.write(f"Imported {', '.join(summary['vcenters_imported'])}")
        if options["verbosity"] <= 1:  # with -v 2 the log has printed them already
            for note in summary.get("notes", ()):
                self.stdout.write(f"  Warning: {note}")
        for name, counts in summary.items():
            if isinstance(counts, dict):
                self.stdout.write(
                    f"  {name:<11} {counts['created']:>6} created {counts['updated']:>6} updated "
                    f"{counts['unchanged']:>6} unchanged {counts['vanished']:>6} vanished"
                )
        if summary.get("warnings"):
            self.stdout.write(f"  {summary['warnings']} rows skipped (run with -v 2 to see them)")
