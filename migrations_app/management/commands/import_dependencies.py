"""`manage.py import_dependencies PATH [--format azure_migrate|csv]`: import connection data now."""

from django.core.management.base import BaseCommand, CommandError

from migrations_app.choices import DependencyFormat
from migrations_app.dependencies.importer import import_file
from migrations_app.dependencies.problems import DependencyImportError


class Command(BaseCommand):
    help = (
        "Import connection data: Azure Migrate's dependency export (CSV or XLSX) or a CSV of source, "
        "destination, port and protocol. A file with any bad row is refused as a whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .csv or .xlsx file")
        parser.add_argument(
            "--format",
            choices=DependencyFormat.values,
            default=None,
            help="the file's format (default: recognised from its header row)",
        )

    def handle(self, path, **options):
        log = (lambda message: self.stdout.write(message)) if options["verbosity"] > 1 else None
        try:
            record = import_file(path, format=options["format"], log=log)
        except DependencyImportError as exc:
            raise CommandError(exc.summary(limit=200)) from None
        s = record.summary
        self.stdout.write(f"Imported {record.file_name} ({record.get_format_display()})")
        self.stdout.write(f"  rows read          {s['rows']:>9,}")
        self.stdout.write(
            f"  connections        {s['edges']:>9,} ({s['new_edges']:,} new, {s['updated_edges']:,} already known)"
        )
        self.stdout.write(f"  VMs matched        {s['matched']:>9,}")
        self.stdout.write(f"  external endpoints {s['external']:>9,} ({s['new_external']:,} new)")
        self.stdout.write(f"  self-loops skipped {s['self_loops']:>9,}")
        for warning in s["warnings"]:
            self.stdout.write(f"  warning: {warning}")
