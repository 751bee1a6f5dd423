"""The scoring benchmark (run through `make bench`, which provides PostgreSQL, Redis and the environment).

Builds its data set-based on PostgreSQL, then measures side by side in one run:
  (a) touch_floor_s            UPDATE every lead row once (the floor any full re-score must pay)
  (b) rescore_full_s           LeadOps' full re-score after a rule change: activation's own path, fanned out to
                               a real Celery worker (2 processes), until the run is finished
  (c) orm_loop_extrapolated_s  load, score in Python, save() per lead, on a sample, extrapolated to every lead
  ingest_rescored_events_per_s events posted to the ingestion API and re-scored by the worker, per second
  event_to_score_p95_s         from an event's arrival to its lead's new score being readable, at 2,000 events/s
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, connections  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from leadops.ingest import EventIngestApi  # noqa: E402
from leadops.models import Lead  # noqa: E402
from scoring import rules as engine  # noqa: E402
from scoring.facts import engine_model, facts_from  # noqa: E402
from scoring.models import LeadAggregate, RescoreRun, ScoringModelVersion, ScoringRule, VersionStatus  # noqa: E402
from scoring.services import runs  # noqa: E402

KINDS = [  # (kind, share of events)
    ("page_view", 40),
    ("email_open", 24),
    ("email_click", 10),
    ("content_download", 7),
    ("pricing_page_visit", 6),
    ("webinar_attended", 4),
    ("form_submitted", 3),
    ("demo_request", 2),
    ("competitor_comparison_download", 1.5),
    ("trial_started", 1.5),
    ("rfp_submitted", 1),
]
PATHS = ["/", "/product", "/product/scoring", "/product/routing", "/pricing", "/blog/mql-vs-sql", "/customers"]


def say(message: str) -> None:
    print(message, flush=True)


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    say(f"  {label}: {seconds:.2f} s")
    return seconds, value


def build(n_leads: int, events_per_lead: int, ref: datetime) -> None:
    n_accounts = max(1, n_leads // 10)
    n_events = n_leads * events_per_lead
    with connection.cursor() as c:
        c.execute("SELECT setseed(0.42)")
        timed(
            f"{n_accounts:,} accounts",
            lambda: c.execute(
                """
            INSERT INTO leadops_account (name, domain, industry, employees, annual_revenue, country, region,
                                         created_at)
            SELECT 'Bench Co ' || g, 'bench' || g || '.example',
                   (ARRAY['Software','Financial Services','Healthcare','Manufacturing','Retail','Education',
                          'Government','Telecommunications'])[1 + g %% 8],
                   (ARRAY[8, 40, 120, 600, 2500, 15000])[1 + (g * 7) %% 6],
                   (ARRAY[2e6, 1.5e7, 8e7, 4e8, 2e9])[1 + (g * 3) %% 5],
                   (ARRAY['United States','Germany','United Kingdom','Singapore','France'])[1 + g %% 5],
                   (ARRAY['North America','EMEA','EMEA','APAC','EMEA'])[1 + g %% 5], now()
            FROM generate_series(1, %s) g
            """,
                [n_accounts],
            ),
        )
        c.execute("SELECT min(id) FROM leadops_account")
        account_lo = c.fetchone()[0]
        timed(
            f"{n_leads:,} leads",
            lambda: c.execute(
                """
            INSERT INTO leadops_lead (first_name, last_name, email, phone, title, seniority, department, country,
                account_id, source, source_detail, external_id, email_consent, stage, temperature, score_tier,
                score_fast_track, created_at, updated_at, stage_changed_at)
            SELECT 'First' || g, 'Last' || g,
                   'p' || g || '@' || CASE WHEN g %% 40 = 0 THEN 'gmail.com'
                                           ELSE 'bench' || (1 + g %% %s) || '.example' END,
                   '', t.title, t.seniority, t.department, 'Germany', %s + g %% %s,
                   (ARRAY['web','webinar','paid_search','referral','event'])[1 + g %% 5], '', '', g %% 3 > 0,
                   'new', '', '', '', now() - (g %% 500) * interval '1 day', now(), now()
            FROM generate_series(1, %s) g
            CROSS JOIN LATERAL (
                SELECT (ARRAY['CEO','VP Sales','Director of IT','Marketing Manager','Engineer','Student'])[1 + g %% 6]
                           AS title,
                       (ARRAY['c_level','vp','director','manager','individual','student'])[1 + g %% 6] AS seniority,
                       (ARRAY['executive','sales','it','marketing','engineering','other'])[1 + g %% 6] AS department
            ) t
            """,
                [n_accounts, account_lo, n_accounts, n_leads],
            ),
        )
        c.execute("SELECT min(id), max(id) FROM leadops_lead")
        lead_lo, lead_hi = c.fetchone()
        kinds = "ARRAY[" + ",".join(f"'{k}'" for k, _ in KINDS) + "]"
        bounds, total = [], 0.0
        for _, share in KINDS:
            total += share
            bounds.append(total / 100)
        kind_case = (
            "CASE "
            + " ".join(f"WHEN r < {b} THEN {i + 1}" for i, b in enumerate(bounds[:-1]))
            + f" ELSE {len(KINDS)} END"
        )
        paths = "ARRAY[" + ",".join(f"'{p}'" for p in PATHS) + "]"
        timed(
            f"{n_events:,} events",
            lambda: c.execute(
                f"""
            INSERT INTO leadops_leadevent (lead_id, kind, occurred_at, properties, received_at)
            SELECT %s + floor(random() * %s)::int, ({kinds})[k],
                   %s - random() * interval '540 days',
                   CASE WHEN k = 1 THEN jsonb_build_object('path', ({paths})[1 + floor(random() * 7)::int])
                        ELSE '{{}}'::jsonb END, now()
            FROM (SELECT {kind_case} AS k FROM (SELECT random() AS r FROM generate_series(1, %s)) x) y
            """,
                [lead_lo, lead_hi - lead_lo + 1, ref, n_events],
            ),
        )
        timed("analyze", lambda: c.execute("ANALYZE"))


def build_aggregates(version: ScoringModelVersion, ref: datetime) -> None:
    """Per-lead aggregates computed in SQL with the same formula the ingestion path folds event by event."""
    rules = [r for r in engine_model(version).rules if isinstance(r, engine.BehaviourRule)]
    parts, params = [], []
    for rule in {r.matcher: r for r in rules}.values():
        decay = (
            "sum(power(2.0, -((extract(epoch from (%s::timestamptz - occurred_at)) / 86400.0) / %s)))"
            if rule.half_life_days
            else "0.0"
        )
        where = "kind = %s"
        part_params = [rule.matcher] + ([ref, rule.half_life_days] if rule.half_life_days else []) + [rule.event_kind]
        if rule.property_name:
            where += " AND lower(properties ->> %s) LIKE %s"
            part_params += [rule.property_name, rule.property_value.lower().replace("%", r"\%") + "%"]
        parts.append(
            f"SELECT lead_id, %s AS matcher, count(*) AS c, {decay} AS d, "
            f"max(extract(epoch from occurred_at)) AS l FROM leadops_leadevent WHERE {where} GROUP BY lead_id"
        )
        params += part_params
    union = " UNION ALL ".join(parts)
    with connection.cursor() as c:
        timed(
            "aggregates",
            lambda: c.execute(
                f"""
            INSERT INTO scoring_leadaggregate (lead_id, behaviour, intent, as_of, last_event_at, updated_at)
            SELECT l.id, COALESCE(b.obj, '{{}}'::jsonb), '{{}}'::jsonb, %s, e.last, now()
            FROM leadops_lead l
            LEFT JOIN (SELECT lead_id, jsonb_object_agg(matcher, jsonb_build_array(c, round(d::numeric, 6), l)) obj
                       FROM ({union}) u GROUP BY lead_id) b ON b.lead_id = l.id
            LEFT JOIN (SELECT lead_id, max(occurred_at) AS last FROM leadops_leadevent GROUP BY lead_id) e
                   ON e.lead_id = l.id
            """,
                [ref.timestamp(), *params],
            ),
        )
        c.execute("ANALYZE scoring_leadaggregate")


def changed_version(active: ScoringModelVersion) -> ScoringModelVersion:
    """Version 2: marketing's rule change (demo request worth 45, MQL at 55). Created directly: the governance
    steps are tested elsewhere, and their impact preview must not run beside the timed re-score."""
    new = ScoringModelVersion.objects.create(
        model=active.model,
        number=active.number + 1,
        status=VersionStatus.APPROVED,
        based_on=active,
        change_note="bench: demo request 45, MQL 55",
        mql_cutoff=55,
        **{f: getattr(active, f) for f in ["weight_fit", "weight_engagement", "weight_intent", "weight_buying"]},
    )
    rules = []
    for rule in active.rules.all():
        rule.pk, rule.version = None, new
        if rule.key == "buy-demo-request":
            rule.points, rule.cap = 45, 45
        rules.append(rule)
    ScoringRule.objects.bulk_create(rules)
    ScoringModelVersion.objects.filter(pk=active.pk).update(status=VersionStatus.RETIRED)
    ScoringModelVersion.objects.filter(pk=new.pk).update(status=VersionStatus.ACTIVE)
    new.refresh_from_db()
    return new


def start_worker(concurrency: int) -> subprocess.Popen:
    log = open(Path(os.environ["LEADOPS_BENCH_DIR"]) / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leadops",
            "worker",
            "-Q",
            "bench",
            "-c",
            str(concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    (Path(os.environ["LEADOPS_BENCH_DIR"]) / "worker.pid").write_text(str(worker.pid))
    from leadops.celery import app

    for _ in range(100):
        try:
            if app.control.ping(timeout=0.5):
                return worker
        except Exception:  # noqa: BLE001 - the broker may not answer during start-up
            pass
        time.sleep(0.2)
    raise SystemExit("the Celery worker did not start; see worker.log")


def full_rescore_through_worker(version: ScoringModelVersion) -> float:
    from scoring.tasks import version_rescore_all

    start = time.perf_counter()
    version_rescore_all.delay(version.pk, RescoreRun.Reason.ACTIVATION)
    while True:
        time.sleep(0.05)
        run = RescoreRun.objects.filter(version=version, reason=RescoreRun.Reason.ACTIVATION).first()
        if run is not None and run.finished_at is not None:
            return time.perf_counter() - start


def orm_loop(version: ScoringModelVersion, sample: int, n_leads: int) -> float:
    model = engine_model(version)
    ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:sample])
    now = datetime.now(UTC)
    start = time.perf_counter()
    for lead_id in ids:
        lead = Lead.objects.select_related("account").get(pk=lead_id)
        aggregate = LeadAggregate.objects.filter(lead_id=lead_id).first()
        result = engine.score_lead(facts_from(lead, aggregate), model, now=now)
        lead.score_fit, lead.score_engagement = result.pillars["fit"], result.pillars["engagement"]
        lead.score_intent, lead.score_buying = result.pillars["intent"], result.pillars["buying"]
        lead.score_total, lead.score_tier, lead.temperature = result.total, result.tier, result.temperature
        lead.scored_at, lead.score_version = now, version
        lead.save()
    per_lead = (time.perf_counter() - start) / len(ids)
    say(f"  ORM loop: {per_lead * 1000:.2f} ms per lead on {len(ids):,} leads")
    return per_lead * n_leads


class Feed:
    """A client posting event batches to the ingestion API view (validation, storage, aggregates, queueing, waking
    the worker), in its own process as a web server's worker process would take them."""

    def __init__(self, lead_lo: int, lead_hi: int, seed: int):
        user, _ = get_user_model().objects.get_or_create(username="bench-feed")
        user.groups.add(Group.objects.get(name="Marketing"))
        self.user = get_user_model().objects.get(pk=user.pk)
        self.view = EventIngestApi.as_view()
        self.factory = APIRequestFactory()
        self.lo, self.hi = lead_lo, lead_hi
        self.random = random.Random(seed)

    def post(self, batch_size: int) -> tuple[list[int], float, float]:
        """Posts one batch; returns its leads, when it was stored (epoch seconds) and how long the post took."""
        leads = self.random.sample(range(self.lo, self.hi + 1), batch_size)
        now = datetime.now(UTC)
        payload = [
            {
                "lead_id": lead_id,
                "kind": self.random.choice(["page_view", "email_click", "demo_request"]),
                "occurred_at": now.isoformat(),
                "properties": {"path": "/product"},
            }
            for lead_id in leads
        ]
        request = self.factory.post("/api/events/", payload, format="json")
        force_authenticate(request, user=self.user)
        started = time.perf_counter()
        response = self.view(request)
        took = time.perf_counter() - started
        assert response.status_code == 202, response.data
        return leads, time.time(), took


def _feed_process(lead_lo, lead_hi, seed, batches, batch_size, rate, out) -> None:
    """Child process: post `batches` batches, at `rate` events/s if given (else as fast as it can)."""
    try:
        feed = Feed(lead_lo, lead_hi, seed)
        interval = batch_size / rate if rate else 0.0
        next_at = time.time()
        for _ in range(batches):
            out.put(feed.post(batch_size))
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.time()))
        out.put(None)
    except BaseException as exc:
        out.put(exc)
        raise
    finally:
        connections.close_all()


# A lead still without its new score this long after the last post means the incremental path lost it.
WATCH_GIVE_UP_S = 120


def ingest_run(lead_lo: int, lead_hi: int, *, events: int, batch: int, feeds: int, rate: int | None = None) -> dict:
    """Post `events` events from `feeds` processes and watch, from this one, when each lead's new score becomes
    readable. Returns the wall time until every lead was re-scored, the latencies and the rate achieved."""
    # Spawned, not forked: a forked child would share this process's database and broker sockets.
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    per_feed = events // batch // feeds
    processes = [
        context.Process(
            target=_feed_process, args=(lead_lo, lead_hi, seed, per_feed, batch, rate / feeds if rate else None, out)
        )
        for seed in range(feeds)
    ]
    for process in processes:
        process.start()
    pending: dict[int, float] = {}  # lead id -> arrival of its latest event
    latencies: list[float] = []
    post_seconds: list[float] = []
    finished = 0
    posted_at = None
    first_post = None
    while finished < feeds or pending:
        while True:
            try:
                item = out.get(timeout=0.05) if finished < feeds else out.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                raise SystemExit(f"a feed process failed: {item!r}")
            if item is None:
                finished += 1
                if finished == feeds:
                    posted_at = time.time()
                continue
            leads, arrival, took = item
            post_seconds.append(took)
            # Clocks start at the first post, not at process start (importing Django is not ingestion).
            first_post = min(first_post or arrival, arrival - took)
            for lead_id in leads:
                pending[lead_id] = arrival
        if pending:
            oldest = datetime.fromtimestamp(min(pending.values()) - 1, tz=UTC)
            seen = time.time()
            rows = Lead.objects.filter(pk__in=list(pending), scored_at__gte=oldest).values_list("pk", "scored_at")
            for lead_id, scored_at in rows:
                # The worker may score a lead before the post that queued it has returned to the client.
                if scored_at.timestamp() >= pending[lead_id] - 0.5:
                    latencies.append(seen - pending.pop(lead_id))
        if posted_at and pending and time.time() - posted_at > WATCH_GIVE_UP_S:
            raise SystemExit(f"{len(pending):,} leads were never re-scored; see worker.log")
        time.sleep(0.05)
    for process in processes:
        process.join()
    seconds = time.time() - first_post
    posted = (posted_at or time.time()) - first_post
    latencies.sort()
    return {
        "seconds": seconds,
        "posted_s": posted,
        "achieved_per_s": per_feed * feeds * batch / posted,
        "events": per_feed * feeds * batch,
        "ms_per_batch": sum(post_seconds) / len(post_seconds) * 1000,
        "p50": latencies[len(latencies) // 2],
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
        "leads": len(latencies),
    }


def ingest_throughput(lead_lo: int, lead_hi: int, events: int, batch: int, feeds: int) -> float:
    """Events ingested and re-scored per second, with `feeds` processes posting as fast as they can."""
    run = ingest_run(lead_lo, lead_hi, events=events, batch=batch, feeds=feeds)
    say(
        f"  {run['events']:,} events ingested and re-scored in {run['seconds']:.2f} s (all posted after "
        f"{run['posted_s']:.2f} s, {run['ms_per_batch']:.0f} ms per batch of {batch}, {feeds} feed processes)"
    )
    return run["events"] / run["seconds"]


def ingest_latency(lead_lo: int, lead_hi: int, rate: int, seconds: int, batch: int, feeds: int) -> tuple[float, float]:
    """p95 from an event's arrival to its lead's readable new score, posting at `rate` events/s when the feeds can
    keep up; returns it with the rate actually achieved (the feeds fall behind when a post takes longer than the
    interval, and the figure must say so)."""
    run = ingest_run(lead_lo, lead_hi, events=rate * seconds, batch=batch, feeds=feeds, rate=rate)
    say(
        f"  {run['leads']:,} leads, aiming at {rate:,} events/s, achieved {run['achieved_per_s']:,.0f}/s: "
        f"median {run['p50']:.2f} s, p95 {run['p95']:.2f} s, max {run['max']:.2f} s"
    )
    return run["p95"], run["achieved_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events-per-lead", type=int, default=10)
    parser.add_argument("--orm-sample", type=int, default=2000)
    parser.add_argument("--ingest-events", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--feeds", type=int, default=2, help="Processes posting event batches concurrently.")
    parser.add_argument("--ingest-batch", type=int, default=200, help="Events per posted batch.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark runs on PostgreSQL (make bench starts one).")
    ref = datetime.now(UTC)
    results: dict = {
        "leads": args.leads,
        "events": args.leads * args.events_per_lead,
        "worker_processes": args.workers,
        "machine_cores": os.cpu_count(),
        "when": ref.isoformat(),
    }

    say(f"Building {args.leads:,} leads and {args.leads * args.events_per_lead:,} events (set-based)")
    build(args.leads, args.events_per_lead, ref)
    active = ScoringModelVersion.objects.get(status=VersionStatus.ACTIVE)
    build_aggregates(active, ref)
    lead_lo, lead_hi = (
        Lead.objects.order_by("pk").values_list("pk", flat=True).first(),
        Lead.objects.order_by("-pk").values_list("pk", flat=True).first(),
    )

    say("Initial scoring with version 1 (not timed)")
    run = runs.rescore_run_start(version=active, reason=RescoreRun.Reason.MANUAL)
    timed(
        "initial scoring, in this process",
        lambda: [runs.rescore_chunk_process(chunk_id=c) for c in run.chunks.values_list("pk", flat=True)],
    )
    worker = start_worker(args.workers)
    try:
        say("Side by side, after marketing's rule change (version 2)")
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE leadops_lead")
            results["touch_floor_s"], _ = timed(
                "(a) touch every lead row once", lambda: c.execute("UPDATE leadops_lead SET score_total = score_total")
            )
            c.execute("VACUUM ANALYZE leadops_lead")
        version = changed_version(active)
        results["rescore_full_s"] = full_rescore_through_worker(version)
        say(f"  (b) LeadOps full re-score through the worker: {results['rescore_full_s']:.2f} s")
        results["orm_loop_extrapolated_s"] = orm_loop(version, args.orm_sample, args.leads)
        say(f"  (c) per-lead ORM loop, extrapolated: {results['orm_loop_extrapolated_s']:.1f} s")
        say("Incremental path: ingestion API -> aggregates -> real worker re-scores")
        results["ingest_rescored_events_per_s"] = ingest_throughput(
            lead_lo, lead_hi, args.ingest_events, args.ingest_batch, feeds=args.feeds
        )
        results["event_to_score_p95_s"], results["event_to_score_rate_achieved_per_s"] = ingest_latency(
            lead_lo, lead_hi, rate=2000, seconds=10, batch=args.ingest_batch, feeds=args.feeds
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    results["rescore_vs_touch_ratio"] = results["rescore_full_s"] / results["touch_floor_s"]
    results["orm_loop_vs_rescore_ratio"] = results["orm_loop_extrapolated_s"] / results["rescore_full_s"]

    rows = [
        ("(a) touch every lead row once", f"{results['touch_floor_s']:.2f} s", ""),
        (
            "(b) full re-score after a rule change",
            f"{results['rescore_full_s']:.2f} s",
            f"{results['rescore_vs_touch_ratio']:.2f}x (a), target <= 3x",
        ),
        (
            "(c) per-lead ORM loop, extrapolated",
            f"{results['orm_loop_extrapolated_s']:.0f} s",
            f"{results['orm_loop_vs_rescore_ratio']:.0f}x (b), target >= 50x",
        ),
        ("events ingested and re-scored", f"{results['ingest_rescored_events_per_s']:,.0f} /s", "target >= 2,000/s"),
        (
            "event to readable score, p95",
            f"{results['event_to_score_p95_s']:.2f} s",
            f"target < 5 s (at {results['event_to_score_rate_achieved_per_s']:,.0f} events/s)",
        ),
    ]
    say(
        f"\nScoring benchmark: {args.leads:,} leads, {results['events']:,} events, PostgreSQL, "
        f"{args.workers} worker processes, {os.cpu_count()} cores"
    )
    width = max(len(r[0]) for r in rows)
    for label, value, note in rows:
        say(f"  {label:<{width}}  {value:>12}  {note}")
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
