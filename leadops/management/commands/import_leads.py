"""manage.py import_leads FILE [--dry-run] [--encoding ENC]: import a Salesforce or HubSpot CSV export of leads."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leadops.imports import services
from leadops.imports.layouts import supported_layouts_text
from leadops.imports.parsing import AUTO_ENCODING, CHOSEN_ENCODINGS, ENCODINGS_READ_BY_THEMSELVES

# Ids listed per line (created, updated) unless --verbosity 2 asks for all of them.
IDS_SHOWN = 1000


def id_ranges(ids: list[int]) -> str:
    """'3-5, 9, 12-13' for [3, 4, 5, 9, 12, 13]: new leads get consecutive ids, so a large import stays short."""
    parts: list[str] = []
    ordered = sorted(ids)
    start = 0
    for index in range(1, len(ordered) + 1):
        if index == len(ordered) or ordered[index] != ordered[index - 1] + 1:
            first, last = ordered[start], ordered[index - 1]
            parts.append(str(first) if first == last else f"{first}-{last}")
            start = index
    return ", ".join(parts)


class Command(BaseCommand):
    help = f"Import leads from a CSV file: {supported_layouts_text()}. All rows or none are imported."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and count what would change; write nothing."
        )
        parser.add_argument(
            "--encoding",
            choices=[AUTO_ENCODING, *CHOSEN_ENCODINGS],
            default=AUTO_ENCODING,
            help=(
                f"The file's encoding. By default LeadOps reads {ENCODINGS_READ_BY_THEMSELVES} and refuses anything "
                f"else rather than guess; name the encoding of a file saved in another one."
            ),
        )

    def handle(self, *args, file: str, dry_run: bool, encoding: str, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None
        result = services.leads_import(
            data=data, file_name=path.name, by=services.COMMAND_ACTOR, dry_run=dry_run, encoding=encoding
        )
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
        if result.merged_rows:
            shown = "; ".join(
                f"{repeat.email} (lines {', '.join(map(str, repeat.lines))})" for repeat in result.repeats[:20]
            )
            more = f"; and {len(result.repeats) - 20} more addresses" if len(result.repeats) > 20 else ""
            self.stdout.write(
                f"Merged {result.merged_rows} row{'s' if result.merged_rows != 1 else ''} into an earlier row with "
                f"the same e-mail: {shown}{more}"
            )
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {path.name}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.accounts_created} accounts created, "
                f"{result.accounts_updated} accounts updated in {result.seconds:.1f} seconds."
            )
        )
        every_id = options.get("verbosity", 1) >= 2
        for label, leads in (("Created", result.created_leads), ("Updated", result.updated_leads)):
            ids = [lead.pk for lead in leads if lead.pk is not None]
            if not ids:
                continue
            listed = ids if every_id else ids[:IDS_SHOWN]
            more = f" ... and {len(ids) - len(listed)} more (-v 2 lists all)" if len(listed) < len(ids) else ""
            self.stdout.write(f"{label} lead ids: {id_ranges(listed)}{more}")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif result.queued_for_scoring:
            queued = result.queued_for_scoring
            self.stdout.write(f"{queued} lead{'s' if queued != 1 else ''} queued for scoring.")
