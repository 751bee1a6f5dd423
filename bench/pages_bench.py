"""The page benchmark (run through `make bench` / `BENCH=pages scripts/bench.sh`, which provide PostgreSQL).

With --leads leads (1,000,000; built with the scoring benchmark's set-based builders and scored, unless the database
already holds leads, as it does after the scoring benchmark in a full `make bench`), --sdrs SDRs (20) in one team and
territory, each owning --sdr-leads open leads (500: MQLs and SQLs) with their stage history, routing decisions, SLA
clocks (open ones due at various times, breached ones with their escalations, met ones), activities and recent
events, and --unowned SQLs waiting unowned in the territory's queue. Measures:

  queue_page_median_ms / _p95_ms   the SDR queue page (`handoff:queue`; the lead list where that page does not
                                   exist yet), --requests requests in this process through Django's test client and
                                   the full middleware stack, signed in as the first SDR, after a warm-up
  queue_page_queries               SQL statements the queue page sends
  lead_page_median_ms / _p95_ms    the lead page, over that SDR's leads in turn (MQLs and SQLs)
  lead_page_queries                the most SQL statements any of its leads' pages sends
  load_p95_ms / load_errors        --load-users simulated SDRs (each its own user and session: log in, then the queue
                                   page and one of their leads in turn, --think seconds apart) against gunicorn on
                                   loopback for --load-seconds, driven by locust (bench/locustfile.py)

Prints where each page spends its database time (its slowest statements) and EXPLAIN ANALYZE of the queue's main
query. Runs with bench/pages_settings.py: LeadOps' settings with DEBUG off, as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# DEBUG off as in production (see pages_settings); the gunicorn workers get the same settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "pages_settings"

import django  # noqa: E402

django.setup()
# Static files are found by the finders here; whitenoise only notes that there is no collectstatic output.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from leadops import roles  # noqa: E402
from leadops.models import Lead, RepProfile, Team  # noqa: E402
from routing.models import RepMonthlyLoad, Territory, TerritoryMember  # noqa: E402
from sla import rules as sla_rules  # noqa: E402
from sla.models import SlaClock, SlaEscalation, SlaPolicy  # noqa: E402

PASSWORD = "pages-bench-password"  # noqa: S105 - a throwaway user in a throwaway database
SQL_SHARE = 0.4  # of an SDR's open leads, the SQLs (the rest are MQLs); in fifths
EXTRA_EVENTS = 30  # recent events per lead an SDR works, on top of the builder's
QUEUE_KINDS = ("generalist", "overflow")


def say(message: str) -> None:
    print(message, flush=True)


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    say(f"  {label}: {time.perf_counter() - start:.2f} s")
    return value


def machine_load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# --- the world -------------------------------------------------------------------------------------------------------


@contextmanager
def blank_text_defaults(tables: list[str]):
    """Text columns that must not be null get '' as their default while the builder runs: Django leaves defaults to
    the model, so a column added after the builder was written (as `score_fast_track` was) would fail its INSERT."""
    with connection.cursor() as c:
        c.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_name = ANY(%s) AND is_nullable = 'NO' AND column_default IS NULL
              AND data_type IN ('character varying', 'text')
            """,
            [tables],
        )
        columns = c.fetchall()
        for table, column in columns:
            c.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT ''")
        try:
            yield
        finally:
            for table, column in columns:
                c.execute(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")


def leads_build(n_leads: int, events_per_lead: int, ref: datetime) -> None:
    """The scoring benchmark's builders (accounts, leads, events, aggregates), then one scoring pass, in this
    process, so every lead has its scores, tier, stage and the facts its explanation is computed from."""
    from scoring_bench import build, build_aggregates

    from scoring.models import RescoreRun, ScoringModelVersion, VersionStatus
    from scoring.services import runs

    say(f"Building {n_leads:,} leads and {n_leads * events_per_lead:,} events (set-based)")
    with blank_text_defaults(["leadops_account", "leadops_lead", "leadops_leadevent"]):
        build(n_leads, events_per_lead, ref)
    active = ScoringModelVersion.objects.get(status=VersionStatus.ACTIVE)
    build_aggregates(active, ref)
    run = runs.rescore_run_start(version=active, reason=RescoreRun.Reason.MANUAL)
    timed(
        "scoring every lead",
        lambda: [runs.rescore_chunk_process(chunk_id=c) for c in run.chunks.values_list("pk", flat=True)],
    )


def people_create(n_sdrs: int) -> dict:
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: it is slow on purpose
    manager = User.objects.create(
        username="pages-manager", first_name="Mona", last_name="Manager", email="mona@pages.example", password=password
    )
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    team = Team.objects.create(name="Pages bench", region="EMEA", manager=manager)
    territory = Territory.objects.create(
        name="Pages bench", priority=1, countries=["DE", "FR", "GB"], team=team, setup_version=1
    )
    sdrs = User.objects.bulk_create(
        [
            User(
                username=f"pages-sdr-{n}",
                first_name=f"Sam{n}",
                last_name="Rep",
                email=f"sdr{n}@pages.example",
                password=password,
            )
            for n in range(n_sdrs)
        ]
    )
    aes = User.objects.bulk_create(
        [User(username=f"pages-ae-{n}", first_name=f"Alex{n}", last_name="Exec", password=password) for n in range(2)]
    )
    Group.objects.get(name=roles.SDR).user_set.add(*sdrs)
    Group.objects.get(name=roles.AE).user_set.add(*aes)
    RepProfile.objects.bulk_create([RepProfile(user=u, team=team, manager=manager) for u in sdrs + aes])
    TerritoryMember.objects.bulk_create(
        [TerritoryMember(territory=territory, user=u, role="sdr", monthly_capacity=400) for u in sdrs]
        + [TerritoryMember(territory=territory, user=u, role="ae") for u in aes]
    )
    return {"manager": manager, "team": team, "territory": territory, "sdrs": sdrs, "aes": aes}


def leads_assign(
    *, sdr_ids: list[int], per_sdr: int, unowned: int, waiting: int, territory_id: int, manager_id: int, now
) -> None:
    """Picks leads nobody owns or routed yet, spread over the whole table (not one block of neighbouring rows), and
    makes them the SDRs' open leads, the territory queue's unowned SQLs and MQLs waiting for no one yet (MQLs get an
    owner when they become SQLs), with what routing, the lifecycle and the reps would have left on them. All
    set-based."""
    owned = len(sdr_ids) * per_sdr
    wanted = owned + unowned + waiting
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS pages_world")
        c.execute(
            """
            CREATE TABLE pages_world AS
            SELECT l.id AS lead_id, l.stage AS old_stage,
                   row_number() OVER (ORDER BY (l.id * 7919) %% 1000003, l.id) - 1 AS n
            FROM leadops_lead l
            WHERE l.owner_id IS NULL AND l.stage IN ('new', 'lead', 'mql', 'sql', 'nurture')
              AND NOT EXISTS (SELECT 1 FROM routing_routingdecision d WHERE d.lead_id = l.id)
            ORDER BY (l.id * 7919) %% 1000003, l.id
            LIMIT %s
            """,
            [wanted],
        )
        c.execute("SELECT count(*) FROM pages_world")
        if c.fetchone()[0] < wanted:
            raise SystemExit(f"not enough unowned leads for {wanted:,} world leads; use more --leads")
        # Who works it (NULL: the territory queue), its new stage and how long ago it came to the rep.
        c.execute(
            """
            ALTER TABLE pages_world ADD COLUMN owner_id bigint, ADD COLUMN stage varchar(20),
                ADD COLUMN assigned_at timestamptz, ADD COLUMN contacted boolean;
            UPDATE pages_world SET
                owner_id = CASE WHEN n < %(owned)s THEN (%(sdrs)s::bigint[])[1 + n / %(per)s] END,
                stage = CASE WHEN n >= %(queued)s THEN 'mql'
                             WHEN n >= %(owned)s OR (n %% %(per)s) %% 5 < %(sql_of_5)s THEN 'sql' ELSE 'mql' END,
                assigned_at = %(now)s - ((n * 37) %% 14400) * interval '1 minute',
                contacted = n < %(owned)s AND n %% 4 <> 0;
            CREATE UNIQUE INDEX ON pages_world (lead_id);
            ANALYZE pages_world;
            """,
            {
                "owned": owned,
                "queued": owned + unowned,
                "sdrs": sdr_ids,
                "per": per_sdr,
                "sql_of_5": round(SQL_SHARE * 5),
                "now": now,
            },
        )
        c.execute(
            """
            UPDATE leadops_lead l SET
                owner_id = w.owner_id, stage = w.stage,
                temperature = CASE WHEN l.temperature = '' THEN 'warm' ELSE l.temperature END,
                lead_at = COALESCE(l.lead_at, w.assigned_at - interval '20 days'),
                mql_at = COALESCE(l.mql_at, w.assigned_at - interval '3 days'),
                sql_at = CASE WHEN w.stage = 'sql' THEN w.assigned_at ELSE NULL END,
                assigned_at = CASE WHEN w.owner_id IS NOT NULL THEN w.assigned_at END,
                stage_changed_at = w.assigned_at,
                first_activity_at = CASE WHEN w.contacted THEN w.assigned_at + interval '2 hours' END,
                last_activity_at = CASE WHEN w.contacted THEN w.assigned_at + interval '2 hours'
                                        + (w.n % 3) * interval '1 day' END
            FROM pages_world w WHERE l.id = w.lead_id
            """
        )
        c.execute(
            """
            INSERT INTO leadops_stagetransition (lead_id, from_stage, to_stage, by_user_id, by_system, reason, at)
            SELECT lead_id, old_stage, stage, NULL, 'pages bench', 'the benchmark''s world', assigned_at
            FROM pages_world WHERE old_stage <> stage
            """
        )
        # Routing: the SDRs' SQLs were assigned to them, the unowned ones wait in the territory's queues.
        c.execute(
            """
            INSERT INTO routing_routingdecision (lead_id, assignee_id, queue, queue_owner_id, territory_id, path,
                reason, setup_version, decided_at, by_user_id, by_system, kind)
            SELECT w.lead_id, w.owner_id,
                   CASE WHEN w.owner_id IS NULL THEN (%(kinds)s::text[])[1 + w.n %% 2] ELSE '' END,
                   CASE WHEN w.owner_id IS NULL THEN %(manager)s END, %(territory)s,
                   jsonb_build_array('named account? no', 'intent ' || (1 + w.n %% 9) || ' days ago',
                                     'territory Pages bench (priority 1)',
                                     CASE WHEN w.n %% 3 = 0 THEN 'ICP weak (fit 55)' ELSE 'ICP strong (fit 80)' END,
                                     CASE WHEN w.owner_id IS NULL THEN 'nobody under capacity: queue'
                                          ELSE 'SDRs: ' || u.username || ' (below fair share)' END),
                   CASE WHEN w.owner_id IS NULL THEN 'Waiting in the territory queue'
                        ELSE 'Weighted round robin in territory Pages bench' END,
                   1, w.assigned_at, NULL, 'routing', 'initial'
            FROM pages_world w LEFT JOIN auth_user u ON u.id = w.owner_id
            WHERE w.stage = 'sql' AND w.n < %(queued)s
            """,
            {"kinds": list(QUEUE_KINDS), "manager": manager_id, "territory": territory_id, "queued": owned + unowned},
        )
        # The reps' calls and e-mails on the leads they contacted (1 to 3 each).
        c.execute(
            """
            INSERT INTO leadops_activity (lead_id, rep_id, kind, occurred_at, duration_minutes, outcome, notes)
            SELECT w.lead_id, w.owner_id, (ARRAY['call', 'email', 'call'])[1 + k],
                   w.assigned_at + interval '2 hours' + k * interval '1 day',
                   CASE WHEN k <> 1 THEN 5 + w.n % 20 END,
                   (ARRAY['Left a voicemail', 'Sent the pricing deck', 'Talked: interested, wants a demo'])[1 + k],
                   'Notes from the call with ' || w.lead_id
            FROM pages_world w CROSS JOIN LATERAL generate_series(0, w.n % 3) k
            WHERE w.contacted
            """
        )
        # Recent behaviour on every world lead (the builder's events are spread over 18 months).
        c.execute(
            """
            INSERT INTO leadops_leadevent (lead_id, kind, occurred_at, properties, received_at)
            SELECT w.lead_id, (ARRAY['page_view', 'email_open', 'email_click', 'pricing_page_visit',
                                     'content_download', 'webinar_attended'])[1 + (w.n + k) %% 6],
                   %s - ((w.n * 13 + k * 977) %% 43200) * interval '1 minute',
                   CASE WHEN (w.n + k) %% 6 = 0 THEN jsonb_build_object('path', '/pricing') ELSE '{}'::jsonb END,
                   %s
            FROM pages_world w CROSS JOIN generate_series(1, %s) k
            WHERE w.n < %s
            """,
            [now, now, EXTRA_EVENTS, owned + unowned],
        )


def clocks_create(*, sdr_ids: list[int], now: datetime) -> int:
    """SLA clocks on the SDRs' leads: a time-to-contact clock each (met for the leads contacted; open, due within
    two days, or breached with its escalations for the others) and, on each SQL, the accept / reject clock."""
    policies = {p.key: p for p in SlaPolicy.objects.all()}
    leads = Lead.objects.filter(owner_id__in=sdr_ids).values_list(
        "pk", "owner_id", "stage", "temperature", "assigned_at", "first_activity_at"
    )
    clocks, steps = [], []
    for index, (lead_id, owner_id, stage, temperature, assigned_at, contacted_at) in enumerate(leads.iterator()):
        contact = policies.get(f"contact-{temperature}") or policies["contact-warm"]
        plans = [(contact, contacted_at)]
        if stage == "sql":
            plans.append((policies["sdr-accept-reject"], None))
        for policy, met_at in plans:
            if met_at is not None:
                started = assigned_at
            else:
                # Due from two hours ago to two days from now: about one in eight has breached.
                due = now + timedelta(minutes=(index * 53) % 3000 - 120)
                started = due - policy.target
            schedule = sla_rules.clock_schedule(
                started_at=started, target=policy.target, ladder=policy.ladder, add=sla_rules.wall_clock_add
            )
            taken = [] if met_at is not None else [(at, action) for at, action in schedule if at <= now]
            upcoming = [at for at, _action in schedule if at > now]
            clock = SlaClock(
                lead_id=lead_id,
                policy=policy,
                owner_id=owner_id,
                state="met" if met_at is not None else ("breached" if taken else "open"),
                started_at=started,
                due_at=schedule[0][0],
                met_at=met_at,
                stopped_at=met_at,
                breached_at=schedule[0][0] if taken else None,
                escalation_step=len(taken),
                next_step_at=None if met_at is not None else (upcoming[0] if upcoming else None),
                schedule=[[at.isoformat(), action] for at, action in schedule],
                calendar_note="wall clock (benchmark)",
                outcome="first activity logged" if met_at is not None else "",
            )
            clocks.append(clock)
            steps.append(taken)
    SlaClock.objects.bulk_create(clocks, batch_size=5000)
    SlaEscalation.objects.bulk_create(
        [
            SlaEscalation(clock=clock, step=step, action=action, at=at, detail="benchmark")
            for clock, taken in zip(clocks, steps, strict=True)
            for step, (at, action) in enumerate(taken)
        ],
        batch_size=5000,
    )
    return len(clocks)


def world_build(args, now: datetime) -> dict:
    waiting = round(args.waiting_mqls * Lead.objects.count())
    say(
        f"The SDRs' world: {args.sdrs} SDRs x {args.sdr_leads} open leads, {args.unowned} SQLs in the territory queue, "
        f"{waiting:,} MQLs waiting unowned and unrouted"
    )
    people = people_create(args.sdrs)
    sdr_ids = [u.pk for u in people["sdrs"]]
    timed(
        "leads assigned, history, routing, activities, events",
        lambda: leads_assign(
            sdr_ids=sdr_ids,
            per_sdr=args.sdr_leads,
            unowned=args.unowned,
            waiting=waiting,
            territory_id=people["territory"].pk,
            manager_id=people["manager"].pk,
            now=now,
        ),
    )
    n_clocks = timed("SLA clocks", lambda: clocks_create(sdr_ids=sdr_ids, now=now))
    month = now.date().replace(day=1)
    this_month = datetime.combine(month, datetime.min.time(), UTC)
    assigned = (
        Lead.objects.filter(owner_id__in=sdr_ids, sql_at__gte=this_month)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    RepMonthlyLoad.objects.bulk_create([RepMonthlyLoad(user_id=pk, month=month, assigned=n) for pk, n in assigned])
    with connection.cursor() as c:
        c.execute("DROP TABLE pages_world")
        timed("analyze", lambda: c.execute("ANALYZE"))
    first = people["sdrs"][0]
    stages = dict(Lead.objects.filter(owner=first).values_list("stage").annotate(n=Count("pk")).order_by())
    open_clocks = SlaClock.objects.filter(owner=first, state__in=["open", "breached"]).count()
    everyone = dict(Lead.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    unowned = Lead.objects.filter(owner__isnull=True, stage__in=["mql", "sql"]).count()
    say(f"  every lead by stage: {dict(sorted(everyone.items(), key=lambda item: -item[1]))}")
    say(f"  MQLs and SQLs nobody owns (any territory's queue, or none): {unowned:,}")
    say(
        f"  {n_clocks:,} clocks; {first.username} owns {sum(stages.values())} open leads ({stages}), "
        f"{open_clocks} running clocks"
    )
    return people


# --- in-process timing ----------------------------------------------------------------------------------------------


def queue_url() -> tuple[str, str]:
    try:
        return reverse("handoff:queue"), "handoff:queue"
    except NoReverseMatch:
        return reverse("lead_list"), "lead_list (handoff:queue does not exist yet)"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class DatabaseTime:
    """An execute wrapper adding up the time spent in SQL statements (the client's wait included)."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def page_timings(client: Client, urls: list[str], requests: int, warmup: int) -> tuple[list[float], list[float]]:
    """Milliseconds per request and of them in SQL, the urls taken in turn; every answer must be a 200."""
    for i in range(warmup):
        response = client.get(urls[i % len(urls)])
        assert response.status_code == 200, (urls[i % len(urls)], response.status_code)
    times, in_sql = [], []
    for i in range(requests):
        url = urls[i % len(urls)]
        database = DatabaseTime()
        with connection.execute_wrapper(database):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        in_sql.append(database.seconds * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, in_sql


def page_queries(client: Client, url: str) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return captured.captured_queries


def queries_print(label: str, queries: list[dict], top: int = 6) -> None:
    total = sum(float(q["time"]) for q in queries) * 1000
    say(f"  {label}: {len(queries)} statements, {total:.1f} ms in the database; the slowest:")
    for q in sorted(queries, key=lambda q: -float(q["time"]))[:top]:
        sql = " ".join(q["sql"].split())
        say(f"    {float(q['time']) * 1000:7.2f} ms  {sql[:150]}{' ...' if len(sql) > 150 else ''}")


def main_lead_query(queries: list[dict]) -> str | None:
    """The queue's main query: the slowest statement that reads the lead table for the list (not a count)."""
    candidates = [q for q in queries if 'FROM "leadops_lead"' in q["sql"] and "COUNT(" not in q["sql"].upper()[:40]]
    if not candidates:
        return None
    return max(candidates, key=lambda q: float(q["time"]))["sql"]


def explain(sql: str) -> str:
    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in c.fetchall())


def plan_times(sql: str, *, jit: bool) -> tuple[float, float]:
    """The statement's execution time and of it the JIT compilation's (0 when none), in ms, from EXPLAIN ANALYZE;
    with `jit` False it runs with PostgreSQL's JIT compilation switched off for that transaction only."""
    with transaction.atomic(), connection.cursor() as c:
        if not jit:
            c.execute("SET LOCAL jit = off")
        c.execute("EXPLAIN ANALYZE " + sql)
        plan = "\n".join(row[0] for row in c.fetchall())
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    compiling = re.search(r"Timing: .*Total ([\d.]+) ms", plan)
    return float(execution.group(1)) if execution else 0.0, float(compiling.group(1)) if compiling else 0.0


def jit_compare(queries: list[dict], top: int = 3) -> list[dict]:
    """The slowest statements run again with and without JIT compilation, best of three each (the page's own
    statement took what it took; this says how much of it was compiling)."""
    rows = []
    for q in sorted(queries, key=lambda q: -float(q["time"]))[:top]:
        with_jit = min((plan_times(q["sql"], jit=True) for _ in range(3)), key=lambda t: t[0])
        without = min(plan_times(q["sql"], jit=False)[0] for _ in range(3))
        sql = " ".join(q["sql"].split())
        rows.append({"sql": sql, "ms": with_jit[0], "jit_ms": with_jit[1], "no_jit_ms": without})
        say(
            f"    {with_jit[0]:7.1f} ms, of it JIT compiling {with_jit[1]:6.1f} ms; with JIT off {without:7.1f} ms  "
            f"{sql[:90]} ..."
        )
    return rows


# LeadOps' own code, and Django's rendering of a page's templates.
PROJECT_CODE = r"(/(handoff|leadops|scoring|routing|sla|playbooks)/(?!migrations))|django/shortcuts.py"


def page_profile(client: Client, urls: list[str], requests: int) -> None:
    """Where the pages spend their time in Python: LeadOps' own functions by cumulative time over `requests`
    requests (cProfile adds its own overhead; the figures are for comparing functions, not the page time)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(requests):
        client.get(urls[i % len(urls)])
    profiler.disable()
    site = str(Path(django.__file__).parent.parent) + "/"
    for title, order, restrictions in (
        ("LeadOps' functions (and Django's render) by cumulative time", "cumulative", (PROJECT_CODE, 16)),
        ("the functions that spend the most time themselves", "tottime", (10,)),
    ):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(*restrictions)
        say(f"    {title}:")
        for line in text.getvalue().splitlines():
            if line.strip() and "(" in line and not line.lstrip().startswith(("ncalls", "Ordered", "List reduced")):
                say(f"      {line.replace(str(ROOT) + '/', '').replace(site, '')}")


def in_process(args, sdr, results: dict) -> list[int]:
    queue_path, queue_name = queue_url()
    lead_ids = list(
        Lead.objects.filter(owner=sdr).order_by("-score_total", "pk").values_list("pk", flat=True)[: args.requests]
    )
    lead_paths = [reverse("lead_detail", args=[pk]) for pk in lead_ids]
    client = Client()
    client.force_login(sdr)
    say(f"\nIn-process server time, {args.requests} requests a page after {args.warmup} of warm-up ({machine_load()})")
    say(f"  queue page: {queue_path}  [{queue_name}]")
    queue_times, queue_sql = page_timings(client, [queue_path], args.requests, args.warmup)
    lead_times, lead_sql = page_timings(client, lead_paths, args.requests, args.warmup)
    queue_queries = page_queries(client, queue_path)
    per_lead = [(path, page_queries(client, path)) for path in lead_paths[: args.query_sample]]
    worst_path, worst_queries = max(per_lead, key=lambda item: len(item[1]))
    counts = sorted({len(q) for _path, q in per_lead})
    for label, times, in_sql in (("queue page", queue_times, queue_sql), ("lead page", lead_times, lead_sql)):
        say(
            f"  {label}: median {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
            f"max {max(times):.1f} ms; in SQL statements median {statistics.median(in_sql):.1f} ms"
        )
    say(f"  queries: queue page {len(queue_queries)}, lead page {counts[0]}-{counts[-1]} (on {len(per_lead)} leads)")
    say("\nWhere the pages spend their database time (one request each)")
    queries_print(f"queue page {queue_path}", queue_queries)
    queries_print(f"lead page {worst_path} (the most statements)", worst_queries)
    if args.profile:
        say(f"\nPython profile, {args.profile} requests a page (LeadOps' functions, cumulative seconds)")
        say(f"  queue page {queue_path}")
        page_profile(client, [queue_path], args.profile)
        say("  lead page")
        page_profile(client, lead_paths, args.profile)
    main = main_lead_query(queue_queries)
    plan = explain(main) if main else "(no query on the lead table)"
    say("\nEXPLAIN ANALYZE of the queue's main query:")
    say("  " + " ".join(main.split()) if main else "")
    for line in plan.splitlines():
        say(f"    {line}")
    say("\nThe queue page's slowest statements again, with and without PostgreSQL's JIT compilation (best of 3):")
    compared = jit_compare(queue_queries)
    main_compared = next((row for row in compared if main and row["sql"] == " ".join(main.split())), None)
    if main_compared:
        results.update(
            {
                "queue_main_query_ms": main_compared["ms"],
                "queue_main_query_jit_ms": main_compared["jit_ms"],
                "queue_main_query_no_jit_ms": main_compared["no_jit_ms"],
            }
        )
    results.update(
        {
            "queue_page_url": queue_name,
            "queue_page_median_ms": round(statistics.median(queue_times), 2),
            "queue_page_p95_ms": round(percentile(queue_times, 0.95), 2),
            "queue_page_queries": len(queue_queries),
            "lead_page_median_ms": round(statistics.median(lead_times), 2),
            "lead_page_p95_ms": round(percentile(lead_times, 0.95), 2),
            "lead_page_queries": counts[-1],
            "queue_page_sql_median_ms": round(statistics.median(queue_sql), 2),
            "lead_page_sql_median_ms": round(statistics.median(lead_sql), 2),
            "pages_requests_each": args.requests,
            "queue_main_query_plan": plan.splitlines()[0] if plan else "",
        }
    )
    return lead_ids


# --- load through gunicorn ------------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_start(workdir: Path, port: int, workers: int) -> subprocess.Popen:
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pages_settings", "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "leadops.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--pid",
            str(workdir / "gunicorn.pid"),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start-up; see {workdir / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    process_stop(server)
    raise SystemExit("gunicorn did not answer within 60 s")


def process_stop(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process's own session (gunicorn's workers, locust's greenlets), SIGKILL after `grace` s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def load_run(args, sdrs, queue_path: str, results: dict) -> None:
    workdir = Path(os.environ.get("LEADOPS_BENCH_DIR") or ROOT / "var")
    port = free_port()
    users = [
        {
            "username": sdr.username,
            "leads": [
                reverse("lead_detail", args=[pk])
                for pk in Lead.objects.filter(owner=sdr).order_by("pk").values_list("pk", flat=True)[:100]
            ],
        }
        for sdr in sdrs[: args.load_users]
    ]
    out = workdir / "load.json"
    out.unlink(missing_ok=True)
    say(
        f"\nLoad: {len(users)} SDRs (each signed in with its own session) against gunicorn ({args.gunicorn_workers} "
        f"workers) on 127.0.0.1:{port}, queue page and a lead page in turn, {args.think} s apart, "
        f"for {args.load_seconds} s"
    )
    server = gunicorn_start(workdir, port, args.gunicorn_workers)
    say(f"  gunicorn is up; {machine_load()}")
    env = {
        **os.environ,
        "PAGES_LOAD_USERS": json.dumps(users),
        "PAGES_LOAD_PASSWORD": PASSWORD,
        "PAGES_LOAD_QUEUE": queue_path,
        "PAGES_LOAD_SECONDS": str(args.load_seconds),
        "PAGES_LOAD_THINK": args.think,
        "PAGES_LOAD_OUT": str(out),
    }
    # locust's own limit ends the run even if the window never starts (e.g. log-ins that hang); the subprocess
    # timeout is the last resort.
    hard_limit = args.load_seconds + 90
    locust = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(len(users)),
            "--spawn-rate",
            str(len(users)),
            "--run-time",
            f"{hard_limit}s",
            "--stop-timeout",
            "10",
            "--host",
            f"http://127.0.0.1:{port}",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(workdir / "locust.log", "w"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (workdir / "locust.pid").write_text(str(locust.pid))
    load_during = []
    try:
        deadline = time.time() + hard_limit + 30
        while locust.poll() is None and time.time() < deadline:
            time.sleep(5)
            load_during.append(os.getloadavg()[0])
        if locust.poll() is None:
            say("  locust overran its limit; stopping it")
    finally:
        process_stop(locust)
        process_stop(server)
    if not out.exists():
        raise SystemExit(f"the load run wrote no results; see {workdir / 'locust.log'}")
    data = json.loads(out.read_text())
    times = data["times"]
    all_ms = [ms for by_name in times.values() for ms in by_name]
    window = data["window_s"]
    say(
        f"  {data['logins']} log-ins (median {statistics.median(data['login_ms']):.0f} ms, not counted below), "
        f"then in {window:.1f} s: {len(all_ms):,} page requests ({len(all_ms) / window:.1f}/s), "
        f"{data['errors']} errors; load average during the run {min(load_during, default=0):.1f}-"
        f"{max(load_during, default=0):.1f}"
    )
    for name, values in sorted(times.items()):
        if values:
            say(
                f"    {name:<6} {len(values):>6,} requests  median {statistics.median(values):6.1f} ms  "
                f"p95 {percentile(values, 0.95):6.1f} ms  max {max(values):7.1f} ms"
            )
    for sample in data["error_samples"][:5]:
        say(f"    error: {sample}")
    if data["errors"] or data["logins"] < len(users):
        # The server's side of the first error (DEBUG is off: the traceback is in gunicorn's log).
        log = (workdir / "gunicorn.log").read_text().splitlines()
        first = next((i for i, line in enumerate(log) if line.startswith(("Internal Server Error", "Traceback"))), None)
        say("  gunicorn's log at the first error:" if first is not None else "  the end of gunicorn's log:")
        for line in log[first : first + 60] if first is not None else log[-20:]:
            say(f"    {line}")
    results.update(
        {
            "load_p95_ms": round(percentile(all_ms, 0.95), 1) if all_ms else None,
            "load_median_ms": round(statistics.median(all_ms), 1) if all_ms else None,
            "load_errors": data["errors"] + (len(users) - data["logins"]),
            "load_requests": len(all_ms),
            "load_requests_per_s": round(len(all_ms) / window, 1) if window else 0,
            "load_users": len(users),
            "load_seconds": round(window, 1),
            "load_think_s": args.think,
            "load_gunicorn_workers": args.gunicorn_workers,
            "load_queue_p95_ms": round(percentile(times["queue"], 0.95), 1) if times.get("queue") else None,
            "load_lead_p95_ms": round(percentile(times["lead"], 0.95), 1) if times.get("lead") else None,
        }
    )


# --- main -----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads built when the database has none")
    parser.add_argument("--events-per-lead", type=int, default=10)
    parser.add_argument("--sdrs", type=int, default=20)
    parser.add_argument("--sdr-leads", type=int, default=500, help="open leads (MQLs and SQLs) of each SDR")
    parser.add_argument("--unowned", type=int, default=200, help="SQLs nobody owns in the territory's queue")
    parser.add_argument(
        "--waiting-mqls", type=float, default=0.02, help="share of all leads made MQLs nobody owns or routed yet"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page, in process")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--query-sample", type=int, default=40, help="lead pages whose statements are counted")
    parser.add_argument("--profile", type=int, default=20, help="requests a page under cProfile (0: none)")
    parser.add_argument("--load-users", type=int, default=20)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--think", default="0.5-1.5", help="seconds a simulated SDR waits between pages, MIN-MAX")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--no-load", action="store_true", help="skip the load run through gunicorn")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("the page benchmark runs on PostgreSQL (make bench provides one)")
    if args.load_users > args.sdrs:
        raise SystemExit("--load-users cannot exceed --sdrs: each simulated SDR signs in as its own user")
    now = datetime.now(UTC)
    say(f"Page benchmark ({machine_load()})")
    existing = Lead.objects.count()
    if existing == 0:
        leads_build(args.leads, args.events_per_lead, now)
    else:
        say(f"Using the {existing:,} leads already in the database")
    people = world_build(args, now)
    n_leads = Lead.objects.count()
    results: dict = {"pages_leads": n_leads, "pages_when": now.isoformat(), "pages_machine_cores": os.cpu_count()}
    results["pages_machine_load_1m"] = round(os.getloadavg()[0], 2)
    in_process(args, people["sdrs"][0], results)
    if not args.no_load:
        load_run(args, people["sdrs"], queue_url()[0], results)

    rows = [
        ("queue page, median", f"{results['queue_page_median_ms']:.1f} ms", "target < 50 ms"),
        ("queue page, p95", f"{results['queue_page_p95_ms']:.1f} ms", "target < 150 ms"),
        ("queue page, SQL queries", f"{results['queue_page_queries']}", results["queue_page_url"]),
        ("lead page, median", f"{results['lead_page_median_ms']:.1f} ms", "target < 50 ms"),
        ("lead page, p95", f"{results['lead_page_p95_ms']:.1f} ms", "target < 150 ms"),
        ("lead page, SQL queries", f"{results['lead_page_queries']}", "the most of any lead measured"),
    ]
    if "load_p95_ms" in results:
        rows += [
            (
                f"under load ({results['load_users']} SDRs), p95",
                f"{results['load_p95_ms']:.1f} ms",
                f"target < 300 ms ({results['load_requests']:,} requests, {results['load_requests_per_s']}/s)",
            ),
            ("under load, errors", f"{results['load_errors']}", "target 0"),
        ]
    say(f"\nPage benchmark: {n_leads:,} leads, PostgreSQL, {os.cpu_count()} cores")
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        say(f"  {label:<{width}}  {value:>10}  {note}")
    out = ROOT / "bench" / "results.json"
    merged = json.loads(out.read_text()) if out.exists() else {}
    merged.update(results)
    out.write_text(json.dumps(merged, indent=2) + "\n")
    say(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
