"""manage.py import_leads FILE [--dry-run]: import a Salesforce or HubSpot CSV export of leads."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leadops.imports import services
from leadops.imports.layouts import supported_layouts_text


class Command(BaseCommand):
    help = f"Import leads from a CSV file: {supported_layouts_text()}. All rows or none are imported."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and count what would change; write nothing."
        )

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None
        result = services.leads_import(data=data, file_name=path.name, by=services.COMMAND_ACTOR, dry_run=dry_run)
        if result.problem:
            raise CommandError(f"{path.name}: {result.problem}")
        self.stdout.write(f"Layout: {result.layout.label} ({result.encoding}, {result.rows} rows)")
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"line {error.line}, {error.column or '-'}: {error.reason}")
            if result.unreported_errors:
                self.stderr.write(f"... and {result.unreported_errors} more problems not listed.")
            raise CommandError(
                f"Nothing was imported: {result.bad_rows} of {result.rows} rows have problems "
                f"({result.error_count} in all). Fix them and run the import again."
            )
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {path.name}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.accounts_created} accounts created, "
                f"{result.accounts_updated} accounts updated in {result.seconds:.1f} seconds."
            )
        )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
