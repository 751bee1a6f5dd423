"""manage.py seed_demo: a deterministic, realistic demo world (18 months of history) and the logins to explore it."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError, RestrictedError
from tqdm import tqdm

from leadops.demo import seed as demo
from leadops.demo.generator import anchor_bounds
from leadops.demo.roster import DEMO_PASSWORD
from leadops.rules import Stage


class Command(BaseCommand):
    help = (
        "Seed a demo world: three sales teams, accounts, leads with 18 months of behaviour, lifecycle history, "
        "activities and opportunities. The same --seed and --anchor always give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=5000, help="How many leads (default 5000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--anchor",
            default=None,
            help="YYYY-MM-DD: the history ends at midnight UTC starting this day (default: today in UTC).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only if the database has no leads; otherwise do nothing but print the logins.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo world first: all leads, accounts, events, opportunities, activities, transitions, "
            "the audit log, the demo teams and the demo users.",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        lead_count = options["leads"]
        if lead_count < 1:
            raise CommandError("--leads must be at least 1.")
        anchor = _parse_anchor(options["anchor"])
        if options["if_empty"] and options["reset"]:
            raise CommandError("--if-empty and --reset contradict each other; use one of them.")

        existing = demo.demo_lead_count()
        if existing and options["if_empty"]:
            self.stdout.write(f"The database already has {existing:,} leads; nothing seeded (--if-empty).")
            self._print_logins()
            return
        if existing and not options["reset"]:
            raise CommandError(
                f"The database already has {existing:,} leads. seed_demo only seeds an empty database. "
                "Use --reset to delete the demo world first (ALL leads, accounts, events, opportunities, "
                "activities, transitions, the audit log, the demo teams and users), or --if-empty to skip seeding."
            )
        if options["reset"]:
            try:
                deleted = demo.demo_reset()
            except (ProtectedError, RestrictedError) as error:
                raise CommandError(f"--reset cannot delete the demo world: {error.args[0]}") from error
            summary = ", ".join(f"{count:,} {name}" for name, count in deleted.items() if count)
            self.stdout.write(f"Deleted the demo world: {summary or 'nothing to delete'}.")

        with tqdm(
            total=lead_count,
            unit=" leads",
            file=sys.stderr,
            disable=options["quiet"],
            desc="Seeding",
            mininterval=0.5,
        ) as bar:
            try:
                report = demo.demo_seed(
                    lead_count=lead_count, seed=options["seed"], anchor=anchor, on_progress=bar.update
                )
            except demo.DemoSeedError as error:
                raise CommandError(str(error)) from error
        self._print_report(report)
        self._print_logins()

    def _print_report(self, report: demo.SeedReport) -> None:
        history_start, history_end = anchor_bounds(report.anchor)
        write = self.stdout.write
        write(
            f"Seeded {report.lead_count:,} demo leads in {report.seconds:.1f} s "
            f"(seed {report.seed}, history {history_start:%Y-%m-%d} to {history_end:%Y-%m-%d %H:%M} UTC)."
        )
        write("")
        write("Records")
        width = max(len(name) for name in report.counts)
        for name, count in report.counts.items():
            write(f"  {name:<{width}}  {count:>10,}")
        write(f"  {'demo users':<{width}}  {report.user_count:>10,}")
        write("")
        write("Leads by stage")
        total = sum(report.stage_counts.values()) or 1
        for stage, count in report.stage_counts.items():
            write(f"  {Stage.LABELS[stage]:<{width}}  {count:>10,}  {100 * count / total:5.1f}%")
        write("")

    def _print_logins(self) -> None:
        logins = demo.demo_logins()
        write = self.stdout.write
        write(f"Demo logins (password: {DEMO_PASSWORD})")
        rows = [("username", "role", "team")] + [
            (login.username, login.role, (login.team or "-") + ("" if login.exists else "  (missing)"))
            for login in logins
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        for index, (username, role, team) in enumerate(rows):
            write(f"  {username:<{widths[0]}}  {role:<{widths[1]}}  {team}")
            if index == 0:
                write(f"  {'-' * widths[0]}  {'-' * widths[1]}  {'-' * 13}")
        others = demo.demo_other_usernames()
        write(
            f"{len(others)} more demo users ({', '.join(others[:3])}, ...) sign in with the same password; "
            "admin is also a Django admin superuser."
        )


def _parse_anchor(value) -> date:
    if value is None or value == "":
        return datetime.now(UTC).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--anchor must be a date as YYYY-MM-DD, got {value!r}.") from None
