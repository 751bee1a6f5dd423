"""The routing benchmark (run through `make bench`, which provides PostgreSQL, Redis and the environment).

3 territories (North America, EMEA, APAC), 24 reps (per territory 5 specialists weighted 1, 1, 1, 2, 2 and 3
generalists), new SQLs created in batches and announced with `leads_became_sql`, as scoring does; a real Celery
worker routes them (`route_leads`). Measures:
  route_sql_to_owner_p95_s        SQLs arriving steadily (--rate per second for --seconds), p95 time from the SQL's
                                  batch being committed to its routing decision being readable
  route_leads_per_s               then a burst of --leads new SQLs, from the first batch announced to the last owner
                                  readable, per second
  route_max_fair_share_deviation  at the end, the largest |assigned - weighted fair share| of any rep in any group
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from leadops.models import Account, Lead, LeadEvent, RepProfile, Team  # noqa: E402
from leadops.rules import Stage  # noqa: E402
from routing import rules  # noqa: E402
from routing.models import RepMonthlyLoad, RoutingDecision, Territory, TerritoryMember  # noqa: E402
from scoring.services.scores import leads_became_sql  # noqa: E402

REGIONS = {
    "North America": ["US", "CA"],
    "EMEA": ["GB", "DE", "FR", "NL"],
    "APAC": ["AU", "IN", "SG"],
}
COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany", "FR": "France"}
SPECIALIST_WEIGHTS = [1, 1, 1, 2, 2]
GENERALISTS = 3


def say(message: str) -> None:
    print(message, flush=True)


def setup_world() -> dict:
    User = get_user_model()
    accounts = {}
    for priority, (region, countries) in enumerate(REGIONS.items(), start=1):
        slug = region.lower().replace(" ", "")
        manager = User.objects.create(username=f"bench-mgr-{slug}", first_name="Manager", last_name=region)
        team = Team.objects.create(name=f"Bench {region}", region=region, manager=manager)
        territory = Territory.objects.create(name=f"Bench {region}", priority=priority, countries=countries, team=team)
        people = [("specialist", weight) for weight in SPECIALIST_WEIGHTS] + [("generalist", 1)] * GENERALISTS
        for index, (role, weight) in enumerate(people):
            user = User.objects.create(username=f"bench-{slug}-{index}", first_name=f"Rep{index}", last_name=region)
            RepProfile.objects.create(user=user, team=team, manager=manager)
            # Capacity above what the run hands out, so the spread measured is the round robin's, not overflow's.
            TerritoryMember.objects.create(
                territory=territory, user=user, role=role, weight=weight, monthly_capacity=5000
            )
        accounts[region] = [
            Account.objects.create(
                name=f"Bench {code} {i}",
                domain=f"bench-{code.lower()}-{i}.example",
                industry="Software",
                employees=random.choice([40, 250, 2500]),
                country=COUNTRY_NAMES.get(code, code),
                region=region,
            )
            for code in countries
            for i in range(20)
        ]
    return accounts


class Feed:
    """Creates SQLs in committed batches and announces them like scoring does; remembers when each batch landed."""

    def __init__(self, accounts: dict, seed: int):
        self.accounts = [a for group in accounts.values() for a in group]
        self.random = random.Random(seed)
        self.created: dict[int, float] = {}
        self.serial = 0

    def batch(self, n: int, announce: bool = True) -> list[int]:
        now = datetime.now(UTC)
        leads = []
        for _ in range(n):
            self.serial += 1
            fit = self.random.choice([85, 80, 75, 50])  # three in four strong
            leads.append(
                Lead(
                    email=f"bench-sql-{self.serial}@example.com",
                    account=self.random.choice(self.accounts),
                    stage=Stage.SQL,
                    score_total=75,
                    score_fit=fit,
                    temperature="warm",
                    created_at=now,
                    stage_changed_at=now,
                    sql_at=now,
                )
            )
        with transaction.atomic():
            Lead.objects.bulk_create(leads, batch_size=1000)
            LeadEvent.objects.bulk_create(
                [LeadEvent(lead=lead, kind="demo_request", occurred_at=now - timedelta(hours=1)) for lead in leads],
                batch_size=1000,
            )
        ids = [lead.pk for lead in leads]
        landed = time.perf_counter()
        for pk in ids:
            self.created[pk] = landed
        if announce:
            leads_became_sql.send(sender=Lead, lead_ids=ids)  # after commit, as scoring sends it
        return ids


class Watcher:
    """Polls for new routing decisions and notes when each lead's owner (or queue) became readable."""

    def __init__(self):
        self.seen: dict[int, float] = {}
        self.last_id = 0

    def poll(self) -> None:
        rows = list(
            RoutingDecision.objects.filter(pk__gt=self.last_id).order_by("pk").values_list("pk", "lead_id")[:50000]
        )
        now = time.perf_counter()
        for pk, lead_id in rows:
            self.seen.setdefault(lead_id, now)
            self.last_id = pk

    def wait_for(self, ids, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        wanted = set(ids)
        while not wanted <= self.seen.keys():
            if time.perf_counter() > deadline:
                missing = len(wanted - self.seen.keys())
                raise SystemExit(f"{missing:,} SQLs were not routed within {timeout:.0f} s; see worker.log")
            time.sleep(0.02)
            self.poll()


def burst(feed: Feed, watcher: Watcher, n: int, batch: int) -> float:
    """The SQLs are created first (scoring's work), then announced batch by batch as scoring would; the clock runs
    from the first announcement to the last owner readable."""
    batches = [feed.batch(min(batch, n - i), announce=False) for i in range(0, n, batch)]
    start = time.perf_counter()
    for ids in batches:
        leads_became_sql.send(sender=Lead, lead_ids=ids)
    ids = [pk for chunk in batches for pk in chunk]
    watcher.wait_for(ids, timeout=600)
    return n / (max(watcher.seen[i] for i in ids) - start)


def steady(feed: Feed, watcher: Watcher, rate: int, seconds: int, batch: int) -> tuple[float, float]:
    interval = batch / rate
    ids = []
    stop = threading.Event()

    def poll():
        from django.db import connections

        while not stop.is_set():
            watcher.poll()
            time.sleep(0.02)
        connections.close_all()

    poller = threading.Thread(target=poll)
    poller.start()
    start = time.perf_counter()
    try:
        for tick in range(int(seconds * rate / batch)):
            ids += feed.batch(batch)
            pause = start + (tick + 1) * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        achieved = len(ids) / (time.perf_counter() - start)
        deadline = time.perf_counter() + 120
        while not set(ids) <= watcher.seen.keys() and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join()
    latencies = sorted(watcher.seen[i] - feed.created[i] for i in ids if i in watcher.seen)
    if len(latencies) < len(ids):
        raise SystemExit(f"{len(ids) - len(latencies):,} SQLs of the steady stream were not routed; see worker.log")
    return latencies[int(0.95 * (len(latencies) - 1))], achieved


def fair_share_deviation() -> float:
    month = datetime.now(UTC).date().replace(day=1)
    loads = dict(RepMonthlyLoad.objects.filter(month=month).values_list("user_id", "assigned"))
    worst = 0.0
    for territory in Territory.objects.filter(name__startswith="Bench "):
        members = list(territory.members.all())
        for group in ("specialist", "generalist"):
            reps = [
                rules.RepFacts(user_id=m.user_id, name="", weight=m.weight, assigned=loads.get(m.user_id, 0))
                for m in members
                if m.role == group
            ]
            # Everyone joined at the start of the run: the same days available, so weights alone share the leads.
            shares = rules.fair_shares(reps, total=sum(r.assigned for r in reps))
            worst = max(worst, *(abs(r.assigned - float(shares[r.user_id])) for r in reps))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000, help="SQLs in the burst")
    parser.add_argument("--batch", type=int, default=500, help="SQLs per committed batch in the burst")
    parser.add_argument("--rate", type=int, default=200, help="SQLs per second in the steady stream")
    parser.add_argument("--seconds", type=int, default=15, help="length of the steady stream")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the routing benchmark runs on PostgreSQL (make bench provides one)")

    from scoring_bench import start_worker

    from leadops.celery import app

    # Routing tasks left in the queue by the scoring benchmark's new SQLs would be counted here otherwise.
    app.control.purge()
    random.seed(7)
    accounts = setup_world()
    feed, watcher = Feed(accounts, seed=7), Watcher()
    watcher.poll()
    worker = start_worker(args.workers)
    try:
        # The steady stream first, on a quiet worker; the burst's notifications would still be queued after it.
        say(f"Steady stream: {args.rate} SQLs/s for {args.seconds} s")
        p95, achieved = steady(feed, watcher, args.rate, args.seconds, batch=max(1, args.rate // 10))
        say(f"  p95 SQL to owner readable: {p95:.2f} s (at {achieved:,.0f} SQLs/s)")
        say(f"Routing burst: {args.leads:,} new SQLs in batches of {args.batch}, routed by the worker")
        per_s = burst(feed, watcher, args.leads, args.batch)
        say(f"  {per_s:,.0f} SQLs routed per second")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    deviation = fair_share_deviation()
    overflow = RoutingDecision.objects.exclude(queue="").count()
    results = {
        "route_leads_per_s": round(per_s, 1),
        "route_sql_to_owner_p95_s": round(p95, 3),
        "route_sql_to_owner_rate_per_s": round(achieved, 1),
        "route_max_fair_share_deviation": round(deviation, 3),
        "route_queued_not_assigned": overflow,
        "route_reps": 24,
        "route_territories": 3,
    }
    rows = [
        ("SQLs routed per second (burst)", f"{per_s:,.0f} /s", "target >= 1,000/s"),
        ("largest deviation from fair share", f"{deviation:.2f} leads", "target <= 1"),
        ("SQL to owner readable, p95", f"{p95:.2f} s", f"target < 2 s (at {achieved:,.0f} SQLs/s)"),
    ]
    say(f"\nRouting benchmark: {args.leads:,} SQLs, 3 territories, 24 reps, {args.workers} worker processes")
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        say(f"  {label:<{width}}  {value:>12}  {note}")
    out = ROOT / "bench" / "results.json"
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged.update(results)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    say(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
