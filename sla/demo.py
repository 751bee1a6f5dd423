"""The demo world's service levels: the last days of SLA history, so that a fresh `make run` shows a live board.

Connected to leadops.demo.signals.demo_world_seeded in sla/apps.py. Nothing here writes a clock, a breach or a
notification itself: the history is played through the services that run LeadOps (an MQL becomes an SQL through
`lead_transition`, routing decides its owner with `leads_route`, reps log calls with `activity_log`, reject leads and
move them on with `lead_transition`, open disputes with `dispute_open`, and the sweep breaches, notifies, reassigns
and auto-accepts at the moments its clocks fall due), in the order it happened, with explicit times. Per SDR:
clocks comfortably ahead, one at risk within the hour, contacts made in time this week, one breached today (owner
and manager notified, waiting for the reassignment at twice the target); per team: a contact made late, a lead
reassigned through routing at twice the target, an SQL auto-accepted, clocks paused by an ownership dispute. An
SDR who is out of office has the dispute they opened before leaving, still waiting for RevOps.

The clocks count from now, so only a world whose anchor is today gets them: clocks started in another world's past
would all fall due at the first sweep and be breached and reassigned at once. Which leads, reps and offsets take
part is drawn from the demo's seed; the same seed on the same day gives the same history.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.test.utils import override_settings
from django.utils import timezone

from leadops import roles
from leadops.demo import catalog
from leadops.demo.generator import SEED_DEMO_ACTOR
from leadops.demo.roster import demo_roster
from leadops.models import Lead, Notification, RepProfile
from leadops.notifications import notification_mark_read
from leadops.rules import IllegalTransition, Stage
from leadops.services import Actor, activity_log, lead_assign, lead_transition
from sla import services
from sla.models import OPEN_STATES, ClockState, SlaClock, SlaPolicy
from sla.selectors import week_start

logger = logging.getLogger(__name__)

SEED_ACTOR = Actor(system=SEED_DEMO_ACTOR)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# What each SDR in the office gets, and what each team gets once (given to its SDRs in turn).
PER_SDR = ("ahead", "ahead", "at_risk", "met", "met", "met", "met", "met", "breached_today")
PER_TEAM = ("late", "reassigned", "auto_accepted", "paused")
# Scenarios whose clock breaches (or may) for want of a call: they take a lead nobody has worked when there is one.
UNWORKED = frozenset({"at_risk", "breached_today", "late", "reassigned", "paused"})
DISPUTE_REASONS = (
    "The contact works for an account our EMEA colleagues already work",
    "Duplicate of a lead a colleague has been working for weeks",
    "The company's headquarters are in another territory",
)
SLA_NOTIFICATION_KINDS = ("sla_breach", "sla_escalation")


def demo_sla_seeded(sender=None, *, anchor: date, seed: int, **kwargs) -> None:
    """Receiver of demo_world_seeded: build the SLA history once the seeding transaction has committed.

    By then every app's answer to the signal is in the database (routing's territories and routed SQLs above all),
    whichever receiver ran first, and each service below commits and announces its change before the next runs,
    as it would in production."""
    transaction.on_commit(lambda: demo_sla_build(anchor=anchor, seed=seed), robust=True)


def demo_sla_build(*, anchor: date, seed: int, now: datetime | None = None) -> dict[str, int]:
    """Play the demo's SLA history up to `now` (default: the time it is) and return how many clocks end in each
    state (and how many are paused). Nothing happens unless `now` falls on the anchor day."""
    now = now or timezone.now()
    start_of_anchor = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    if not start_of_anchor <= now < start_of_anchor + DAY:
        logger.info("Demo SLA history skipped: the world's anchor %s is not today (%s).", anchor, now.date())
        return {}
    if connection.in_atomic_block:
        # Each step must commit before the next one: the clocks start and stop on commit.
        raise RuntimeError("demo_sla_build must run outside a transaction: it is called once the seeding commits.")
    history = _History(seed=seed, now=now)
    if not history.plan():
        return {}
    with _replaying():
        history.play()
    return clock_counts()


def clock_counts() -> dict[str, int]:
    """Clocks by state, plus those paused and those running (open or breached, not stopped)."""
    counts = {state: SlaClock.objects.filter(state=state).count() for state in ClockState.values}
    running = SlaClock.objects.filter(state__in=OPEN_STATES, stopped_at__isnull=True)
    counts["running"] = running.count()
    if _has_pauses():
        counts["paused"] = running.filter(paused_at__isnull=False).count()
    return counts


def _has_pauses() -> bool:
    return any(f.name == "paused_at" for f in SlaClock._meta.get_fields())


@contextmanager
def _replaying():
    """While the history plays: routing's decisions start their clocks here and now rather than in a worker task
    (the next step, a call or a sweep, must find them, and a worker running an old decision after the history moved
    on would start its clocks a second time), and nobody is e-mailed about a past the demo made up."""
    from routing.services import leads_routed
    from sla.apps import _on_leads_routed

    def start_clocks_now(sender, *, decision_ids, **kwargs):
        services.clocks_for_decisions(decision_ids=decision_ids)

    was_connected = leads_routed.disconnect(dispatch_uid="sla.leads_routed")
    leads_routed.connect(start_clocks_now, weak=False, dispatch_uid="sla.demo.leads_routed")
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            yield
    finally:
        leads_routed.disconnect(dispatch_uid="sla.demo.leads_routed")
        if was_connected:
            leads_routed.connect(_on_leads_routed, dispatch_uid="sla.leads_routed")


@dataclass
class _Rep:
    user: object
    team_id: int
    region: str
    away_from: datetime | None


@dataclass
class _Scenario:
    kind: str
    rep: _Rep
    start: datetime  # when the lead becomes an SQL and routing decides it
    lead: Lead | None = None
    promote_at: datetime | None = None  # a lead of the territory made an MQL of this SDR first
    extras: dict = field(default_factory=dict)


class _History:
    def __init__(self, *, seed: int, now: datetime):
        self.rng = random.Random(f"{seed}:sla")
        self.now = now
        self.today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.week = week_start(now)
        self.scenarios: list[_Scenario] = []
        self.queue: list = []
        self.order = itertools.count()
        self.first_notification_id = 0
        self._accept_add = None
        self._contact: timedelta | None = None

    # --- the plan: who, which lead, when ----------------------------------------------------------------------

    def plan(self) -> bool:
        reps = self._sdrs()
        if not reps or not SlaPolicy.objects.filter(active=True).exists():
            return False
        by_team: dict[int, list[_Rep]] = {}
        for rep in reps:
            by_team.setdefault(rep.team_id, []).append(rep)
        for team_reps in by_team.values():
            present = [rep for rep in team_reps if not self._away(rep)]
            for rep in team_reps:
                if self._away(rep):
                    self._add("paused_away", rep)
                    continue
                for kind in PER_SDR:
                    self._add(kind, rep)
            if present:
                turns = present[:]
                self.rng.shuffle(turns)
                for kind, rep in zip(PER_TEAM, itertools.cycle(turns)):
                    if kind == "reassigned":
                        # Only where routing has a colleague to give it to: a lead moved to the overflow queue
                        # would be held by the manager, and shown to every manager as a lead nobody owns.
                        rep = self._reassignable(turns)
                        if rep is None:
                            continue
                    self._add(kind, rep)
        self.scenarios = [scenario for scenario in self.scenarios if scenario.start is not None]
        self._choose_leads()
        return any(scenario.lead is not None for scenario in self.scenarios)

    def _sdrs(self) -> list[_Rep]:
        usernames = [user.username for user in demo_roster() if user.role == roles.SDR]
        profiles = (
            RepProfile.objects.filter(user__username__in=usernames, user__is_active=True, team__isnull=False)
            .select_related("user", "team")
            .order_by("user__username")
        )
        return [
            _Rep(
                user=profile.user,
                team_id=profile.team_id,
                region=profile.team.region,
                away_from=_midnight(profile.out_of_office_from) if profile.is_out_of_office(self.now.date()) else None,
            )
            for profile in profiles
        ]

    @staticmethod
    def _away(rep: _Rep) -> bool:
        return rep.away_from is not None

    def _between(self, low: datetime, high: datetime) -> datetime:
        """A moment drawn between `low` and `high` (at `high` when the window is empty), to the second."""
        span = max(0, int((high - low).total_seconds()))
        return high - timedelta(seconds=self.rng.randint(0, span)) if span else high

    def _minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def _add(self, kind: str, rep: _Rep) -> None:
        now, rng = self.now, self.rng
        extras: dict = {}
        # Endings that count for this week's compliance fall between Monday 00:00 and now, however early it is.
        week_low = max(self.week, now - 5 * DAY)
        if kind == "ahead":
            start = now - self._minutes(20, 300)
        elif kind == "at_risk":
            start = now - DAY + self._minutes(10, 50)  # the 24-hour contact clock falls due within the hour
        elif kind == "met":
            call = self._between(week_low, now - 5 * MINUTE)
            start = call - self._minutes(5, 8 * 60)
            extras["call"] = call
        elif kind == "breached_today":
            breach = self._between(max(self.today, now - 20 * HOUR) + MINUTE, now - 2 * MINUTE)
            start = breach - DAY
        elif kind == "late":
            breach = self._between(now - 6 * DAY, now - 3 * HOUR)
            start = breach - DAY
            extras["call"] = self._between(breach + 20 * MINUTE, min(breach + 10 * HOUR, now - 5 * MINUTE))
        elif kind == "reassigned":
            start = self._start_reassigned()
        elif kind == "auto_accepted":
            start = self._start_auto_accepted()
            if start is not None:
                extras["call"] = start + self._minutes(10, 120)
        elif kind == "paused":
            start = now - self._minutes(120, 20 * 60)
            extras["dispute"] = start + self._minutes(10, 90)
        elif kind == "paused_away":
            start = rep.away_from - self._minutes(20 * 60, 30 * 60)
            extras["dispute"] = start + self._minutes(20, 120)
        else:
            raise ValueError(kind)
        if kind == "ahead" and not any(s.rep is rep and s.kind == "ahead" for s in self.scenarios):
            extras["call"] = start + self._minutes(4, 45)  # the first of the two is worked already
        if kind in ("paused", "paused_away"):
            extras["dispute_reason"] = rng.choice(DISPUTE_REASONS)
        self.scenarios.append(_Scenario(kind=kind, rep=rep, start=start, extras=extras))

    def _accept_due(self, start: datetime) -> datetime:
        """When the accept / reject clock of an SQL routed at `start` falls due: routing keeps an owned lead with its
        owner and names no territory, so the clock counts on the default calendar."""
        if self._accept_add is None:
            policy = SlaPolicy.objects.filter(active=True, starts_on="sql_assigned").order_by("order", "key").first()
            target = policy.target if policy else 16 * HOUR
            if policy is not None and not policy.business_time:
                self._accept_add = lambda at: at + target
            else:
                calendar, _note = services.calendar_of_territory(None)
                self._accept_add = lambda at: calendar.add(at, target)
        return self._accept_add(start)

    def _contact_target(self) -> timedelta:
        if self._contact is None:
            policy = SlaPolicy.objects.filter(active=True, starts_on="assigned", temperature="cold").first()
            self._contact = policy.target if policy else DAY
        return self._contact

    def _start_reassigned(self) -> datetime | None:
        """An SQL nobody called until routing moved it at twice the contact target, before the two business days of
        its accept / reject clock ran out: one that came in before a weekend."""
        twice = 2 * self._contact_target()
        latest = self.now - twice - 20 * MINUTE
        candidates = [latest - step * 30 * MINUTE for step in range(14 * 48)]
        fitting = [start for start in candidates if self._accept_due(start) > start + twice + HOUR]
        return self.rng.choice(fitting[:12]) if fitting else None

    def _start_auto_accepted(self) -> datetime | None:
        """An SQL called in time but neither accepted nor rejected within two business days, auto-accepted this
        week when it can be."""
        candidates = [self.now - 2 * HOUR - step * 30 * MINUTE for step in range(14 * 48)]
        due = [(start, self._accept_due(start)) for start in candidates]
        fitting = [start for start, at in due if self.week <= at <= self.now - 30 * MINUTE]
        fitting = fitting or [start for start, at in due if at <= self.now - 30 * MINUTE]
        return self.rng.choice(fitting[:12]) if fitting else None

    def _reassignable(self, reps: list[_Rep]) -> _Rep | None:
        """An SDR whose weakly fitting lead routing can give to a colleague: another generalist of the team's
        territory is in the office (an unscored lead's fit counts as weak)."""
        from routing.models import MemberRole, TerritoryMember

        generalists = set(
            TerritoryMember.objects.filter(
                territory__team_id=reps[0].team_id, role=MemberRole.GENERALIST, active=True
            ).values_list("user_id", flat=True)
        )
        for rep in reps:
            if (generalists - {rep.user.pk}) & {other.user.pk for other in reps}:
                return rep
        return None

    def _choose_leads(self) -> None:
        """Each scenario gets an MQL that was its SDR's before the start; else a teammate's MQL, moved to the SDR's
        queue a little earlier; else a lead of the SDR's region nobody owns (a new one, then one back from nurture),
        made their MQL a little earlier. MQLs with the most behaviour lately go first (their score is the likeliest
        to carry them to SQL); a clock that must breach for want of a call goes to a lead nobody has worked when
        there is one."""
        since = self.now - 30 * DAY
        team_mqls: dict[int, list[Lead]] = {}
        region_leads: dict[str, list[Lead]] = {}
        for scenario in sorted(self.scenarios, key=lambda s: (s.rep.user.username, s.start, s.kind)):
            rep = scenario.rep
            if rep.team_id not in team_mqls:
                mqls = self._shuffled(
                    Lead.objects.filter(stage=Stage.MQL, owner__profile__team_id=rep.team_id).annotate(
                        recent=Count("events", filter=Q(events__occurred_at__gte=since))
                    )
                )
                team_mqls[rep.team_id] = sorted(mqls, key=lambda lead: -lead.recent)
            if rep.region not in region_leads:
                unowned = Lead.objects.filter(owner__isnull=True, account__region=rep.region)
                region_leads[rep.region] = [
                    *self._shuffled(unowned.filter(stage=Stage.LEAD)),
                    *self._shuffled(unowned.filter(stage=Stage.NURTURE)),
                ]
            margin = scenario.start - 30 * MINUTE
            promote_at = scenario.start - self._minutes(60, 2 * 24 * 60)
            pool, region = team_mqls[rep.team_id], region_leads[rep.region]
            candidates = [
                *((lead, None, pool) for lead in pool if lead.owner_id == rep.user.pk),
                *((lead, promote_at, pool) for lead in pool if lead.owner_id != rep.user.pk),
                *((lead, promote_at, region) for lead in region),
            ]
            fits = self._fits(scenario)
            for strict in (True, False):
                for lead, moved_at, source in candidates:
                    ready_by = moved_at - 10 * MINUTE if moved_at else margin
                    last_change = max(lead.stage_changed_at, lead.assigned_at or lead.stage_changed_at)
                    if last_change < ready_by and fits(lead, strict=strict):
                        scenario.lead, scenario.promote_at = lead, moved_at
                        source.remove(lead)
                        break
                if scenario.lead is not None:
                    break

    def _fits(self, scenario: _Scenario):
        """Whether a lead suits the scenario: (strictly) never worked when its clock must breach for want of a call;
        for a reassignment, a lead routing sends to a rep rather than to nurture (intent or a buying signal within
        the 30 days before the move)."""
        from routing.selectors import lead_facts_many

        unworked = scenario.kind in UNWORKED
        moved_at = scenario.start + 2 * self._contact_target()

        def fits(lead: Lead, *, strict: bool) -> bool:
            if unworked and strict and (lead.first_activity_at is not None or lead.last_activity_at is not None):
                return False
            if scenario.kind != "reassigned":
                return True
            signal = lead_facts_many(lead_ids=[lead.pk])[lead.pk].last_signal_at
            return signal is not None and moved_at - 25 * DAY <= signal <= scenario.start

        return fits

    def _shuffled(self, leads) -> list[Lead]:
        rows = list(leads.order_by("pk"))
        self.rng.shuffle(rows)
        return rows

    # --- playing it -------------------------------------------------------------------------------------------

    def _at(self, when: datetime, action, *args) -> None:
        if when <= self.now:
            heapq.heappush(self.queue, (when, next(self.order), action, args))

    def play(self) -> None:
        last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.first_notification_id = (last or 0) + 1
        for scenario in self.scenarios:
            if scenario.lead is None:
                logger.info("Demo SLA history: no lead left for %s of %s.", scenario.kind, scenario.rep.user)
                continue
            logger.debug(
                "Demo SLA history: %s for %s on lead %s from %s",
                scenario.kind,
                scenario.rep.user,
                scenario.lead.pk,
                scenario.start,
            )
            if scenario.promote_at is not None:
                self._at(scenario.promote_at, self._promote, scenario)
            self._at(scenario.start, self._route, scenario)
        while self.queue:
            when, _order, action, args = heapq.heappop(self.queue)
            self._sweep(until=when, inclusive=False)
            action(when, *args)
        self._sweep(until=self.now, inclusive=True)
        self._read_old_notifications()

    def _sweep(self, *, until: datetime, inclusive: bool) -> None:
        """Take every step that falls due before `until`, each at the moment it falls due, as beat's minute-by-minute
        sweep would have."""
        while True:
            due = SlaClock.objects.filter(state__in=OPEN_STATES, next_step_at__isnull=False)
            due = due.filter(next_step_at__lte=until) if inclusive else due.filter(next_step_at__lt=until)
            first = due.aggregate(first=Min("next_step_at"))["first"]
            if first is None:
                return
            if services.sla_sweep(now=first).steps == 0:
                logger.warning("Demo SLA history: the sweep at %s took no step; stopping the sweeps there.", first)
                return

    def _promote(self, when: datetime, scenario: _Scenario) -> None:
        """Marketing hands the SDR an MQL: a lead of the region that just became one (new, or back from nurture), or a
        teammate's MQL moved to their queue."""
        lead, sdr = scenario.lead, scenario.rep.user
        if lead.stage in (Stage.LEAD, Stage.NURTURE):
            lead_transition(
                lead=lead,
                to=Stage.MQL,
                by=SEED_ACTOR,
                reason="Engagement crossed the MQL threshold",
                expected_from=lead.stage,
                at=when,
            )
            when = min(when + self._minutes(1, 30), scenario.start - MINUTE)
            reason = "MQL handed to the territory's SDR"
        else:
            reason = f"MQL moved to {sdr.get_full_name() or sdr.get_username()}'s queue"
        lead_assign(lead=lead, owner=sdr, by=SEED_ACTOR, reason=reason, at=when)

    def _route(self, when: datetime, scenario: _Scenario) -> None:
        from routing.services import leads_route

        lead = scenario.lead
        try:
            lead_transition(
                lead=lead,
                to=Stage.SQL,
                by=SEED_ACTOR,
                reason="Score crossed the SQL cut-off",
                expected_from=Stage.MQL,
                at=when,
            )
        except IllegalTransition:
            logger.warning("Demo SLA history: lead %s is no longer an MQL; left out.", lead.pk)
            return
        leads_route(lead_ids=[lead.pk], now=when)
        extras, kind, rep = scenario.extras, scenario.kind, scenario.rep.user
        if "call" in extras and kind != "reassigned":
            self._at(extras["call"], self._call, lead, rep)
        if "dispute" in extras:
            self._at(extras["dispute"], self._dispute, lead, rep, extras["dispute_reason"])
        if kind in ("met", "late"):
            self._plan_rejection(lead, rep, call=extras["call"])
        if kind == "reassigned":
            # Whoever routing gives it to at twice the target calls within a few hours.
            twice = when + 2 * self._contact_target()
            self._at(twice + self._minutes(10, 180), self._call_by_new_owner, lead, rep)

    def _plan_rejection(self, lead: Lead, sdr, *, call: datetime) -> None:
        """An SQL the SDR called whose accept / reject clock ran out before now was decided before it did: rejected
        (accepting hands the lead to an AE, which the demo leaves to the people trying it), then moved to nurture
        within the rationale's 48 hours when that time has come."""
        clock = SlaClock.objects.filter(
            lead=lead, owner=sdr, policy__stops_on="accepted_or_rejected", stopped_at__isnull=True
        ).first()
        if clock is None or clock.due_at > self.now:
            return
        low, high = call + 5 * MINUTE, clock.due_at - 5 * MINUTE
        if high <= low:
            return
        rejected = self._between(low + (high - low) / 3, high)
        self._at(rejected, self._reject, lead, sdr)
        self._at(rejected + self._minutes(60, 40 * 60), self._nurture, lead, sdr)

    def _call(self, when: datetime, lead: Lead, rep) -> None:
        activity_log(lead=lead, rep=rep, kind="call", occurred_at=when, outcome=self.rng.choice(catalog.CALL_OUTCOMES))

    def _call_by_new_owner(self, when: datetime, lead: Lead, previous_owner) -> None:
        lead.refresh_from_db(fields=["owner", "stage"])
        if lead.owner_id is None or lead.owner_id == previous_owner.pk or lead.stage != Stage.SQL:
            return
        self._call(when, lead, lead.owner)

    def _reject(self, when: datetime, lead: Lead, sdr) -> None:
        try:
            lead_transition(
                lead=lead,
                to=Stage.REJECTED,
                by=sdr,
                reason=self.rng.choice(catalog.SDR_REJECTION_REASONS),
                expected_from=Stage.SQL,
                at=when,
            )
        except IllegalTransition:
            pass

    def _nurture(self, when: datetime, lead: Lead, sdr) -> None:
        try:
            lead_transition(
                lead=lead,
                to=Stage.NURTURE,
                by=sdr,
                reason="Rejected leads go to nurture",
                expected_from=Stage.REJECTED,
                at=when,
            )
        except IllegalTransition:
            pass

    def _dispute(self, when: datetime, lead: Lead, sdr, reason: str) -> None:
        from routing.services_disputes import dispute_open

        lead.refresh_from_db(fields=["owner", "stage"])
        if lead.owner_id != sdr.pk:
            return
        dispute_open(lead=lead, by=sdr, reason=reason, now=when)

    def _read_old_notifications(self) -> None:
        """People have read what the sweep told them before today; today's breaches are still unread."""
        made = Notification.objects.filter(
            pk__gte=self.first_notification_id, kind__in=SLA_NOTIFICATION_KINDS, read_at__isnull=True
        ).select_related("recipient")
        clocks = {}
        for notification in made:
            clock_id = _clock_of(notification.dedupe_key)
            if clock_id is None:
                continue
            if clock_id not in clocks:
                clocks[clock_id] = SlaClock.objects.filter(pk=clock_id).values_list("breached_at", flat=True).first()
            breached_at = clocks[clock_id]
            if breached_at is not None and breached_at < self.today:
                notification_mark_read(user=notification.recipient, notification_id=notification.pk)


def _clock_of(dedupe_key: str) -> int | None:
    """The clock a sweep notification is about, from its key `sla-clock-<id>-step-<n>`."""
    parts = dedupe_key.split("-")
    if len(parts) == 5 and parts[:2] == ["sla", "clock"] and parts[2].isdigit():
        return int(parts[2])
    return None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
