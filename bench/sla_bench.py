"""The SLA sweep benchmark (run through `make bench` / `BENCH=sla scripts/bench.sh`, which provide PostgreSQL).

--clocks open clocks (100,000) of which --due (1,000) are past their due time, owned by 50 reps with a manager; one
sweep finds the due clocks with one indexed query and takes each one's due steps (breach, notify the owner, notify
the manager: 3 steps, 2 notifications with e-mail per clock). Prints the query plan of the sweep's query and writes
`sla_sweep_s` (target under 2 s) to bench/results.json. `--queries` counts the sweep's statements by kind, with the
time each kind took; `--profile` prints where the sweep spends its time (SLA_ARGS="--queries" through bench.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")
# E-mails are prepared and "sent" as in production, into memory instead of a mail server.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.mail.utils import DNS_NAME  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402

from leadops.models import Lead, Notification, RepProfile, Team  # noqa: E402
from leadops.rules import Stage  # noqa: E402
from sla import rules, services  # noqa: E402
from sla.models import SlaClock, SlaEscalation, SlaPolicy  # noqa: E402
from sla.services import due_clock_ids, sla_sweep  # noqa: E402

REPS = 50
BATCH = 10_000


def say(message: str) -> None:
    print(message, flush=True)


class StatementCounter:
    """An execute wrapper that counts the statements sent (by their first word) and the time each kind took.
    BEGIN and COMMIT are not statements Django sends through it."""

    def __init__(self):
        self.by_kind: dict[str, list] = {}

    @property
    def total(self) -> int:
        return sum(count for count, _seconds in self.by_kind.values())

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.by_kind.setdefault(sql.split(None, 1)[0].upper(), [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started


def warm_up() -> None:
    """What a worker does once in its life, not once a sweep: the first link to a lead imports the URL configuration
    (a few tenths of a second) and the first e-mail looks up the host's name for its Message-ID. The sweep timed is
    that of a worker that has swept before."""
    reverse("lead_detail", args=[1])
    DNS_NAME.get_fqdn()


def setup(*, clocks: int, due: int, now: datetime) -> None:
    User = get_user_model()
    manager = User.objects.create(username="sla-bench-manager", email="manager@bench.example")
    team = Team.objects.create(name="SLA bench", manager=manager)
    reps = User.objects.bulk_create(
        [User(username=f"sla-bench-rep-{n}", email=f"rep{n}@bench.example") for n in range(REPS)]
    )
    RepProfile.objects.bulk_create([RepProfile(user=rep, team=team, manager=manager) for rep in reps])
    policy = SlaPolicy.objects.get(key="contact-hot")
    for start in range(0, clocks, BATCH):
        n = min(BATCH, clocks - start)
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    email=f"sla-bench-{start + i}@lead.example",
                    stage=Stage.SQL,
                    owner=reps[(start + i) % REPS],
                    temperature="hot",
                    created_at=now - timedelta(days=1),
                    stage_changed_at=now - timedelta(days=1),
                )
                for i in range(n)
            ]
        )
        rows = []
        for i, lead in enumerate(leads):
            index = start + i
            # the due ones are spread over the whole table, not bunched at its end
            is_due = index % (clocks // due) == 0 and index // (clocks // due) < due
            started = now - timedelta(minutes=6) if is_due else now + timedelta(minutes=index % 600)
            schedule = rules.clock_schedule(
                started_at=started, target=policy.target, ladder=policy.ladder, add=rules.wall_clock_add
            )
            rows.append(
                SlaClock(
                    lead=lead,
                    policy=policy,
                    owner_id=lead.owner_id,
                    started_at=started,
                    due_at=schedule[0][0],
                    next_step_at=schedule[0][0],
                    schedule=[[at.isoformat(), action] for at, action in schedule],
                    calendar_note="wall clock",
                )
            )
        SlaClock.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--profile", action="store_true", help="print where the sweep spends its time")
    parser.add_argument("--queries", action="store_true", help="count the sweep's statements and their database time")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)

    say(f"SLA benchmark: creating {args.clocks:,} open clocks, {args.due:,} of them due ...")
    setup(clocks=args.clocks, due=args.due, now=now)
    due = SlaClock.objects.filter(state__in=["open", "breached"], next_step_at__lte=now).count()
    say(f"  {SlaClock.objects.count():,} clocks, {due:,} due")

    # The very query the sweep runs (with the policy, lead and owner it reads alongside each clock).
    plan = services._due_clocks(now=now, limit=args.due).explain(analyze=True)
    say("\nQuery plan of the sweep's query (sla.services._due_clocks):")
    for line in plan.splitlines():
        say(f"  {line}")
    assert len(due_clock_ids(now=now, limit=args.due)) == due
    warm_up()

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    statements = StatementCounter()
    started = time.perf_counter()
    if args.queries:
        with connection.execute_wrapper(statements):
            result = sla_sweep(now=now, limit=args.due)
    else:
        result = sla_sweep(now=now, limit=args.due)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    emails = len(getattr(mail, "outbox", []))  # the locmem backend's: every e-mail the sweep sent
    again = sla_sweep(now=now, limit=args.due)

    escalations = SlaEscalation.objects.count()
    notifications = Notification.objects.filter(kind__in=["sla_breach", "sla_escalation"]).count()
    say(f"\nSLA sweep: {result.clocks:,} clocks, {result.steps:,} steps {result.actions} in {elapsed:.2f} s")
    say(f"  target < 2 s; escalations on record {escalations:,}, notifications {notifications:,}, e-mails {emails:,}")
    say(f"  a second sweep at the same time: {again.clocks} clocks, {again.steps} steps")
    if args.queries:
        say(f"  statements: {statements.total:,} ({statements.total / max(result.clocks, 1):.1f} a clock), of them")
        for kind, (count, seconds) in sorted(statements.by_kind.items(), key=lambda item: -item[1][0]):
            say(f"    {kind:<10} {count:>6,}  {seconds:6.2f} s")
    out = ROOT / "bench" / "results.json"
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged.update(
        {
            "sla_sweep_s": round(elapsed, 3),
            "sla_sweep_clocks_open": args.clocks,
            "sla_sweep_clocks_due": due,
            "sla_sweep_steps": result.steps,
            "sla_sweep_uses_index": "sla_clock_state_next_step" in plan,
        }
    )
    out.write_text(json.dumps(merged, indent=2) + "\n")
    say(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
