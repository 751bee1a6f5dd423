"""The life of one demo lead: what it does on our site, how far it gets in the funnel, and who works it.

The causal chain the later scoring work has to find in the data (DESIGN.md section 2):

1. Fit (target industry, revenue $10M-$1B, 50-10,000 employees, VP+ or C-level) and a hidden interest level.
2. Interest drives behaviour in a research phase: page views, pricing sessions, demo requests, competitor
   comparisons, webinars, trials, RFPs, and third-party intent surges on the account.
3. A propensity computed from fit and the behaviour that actually happened before each decision (plus noise)
   decides every step: MQL, SQL, acceptance, opportunity and the win.

Every step only happens if its time is before the anchor, so recent leads are still early in the funnel and old ones
are resolved. Moves follow leadops.rules.TRANSITIONS; the tests check every chain.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from leadops.demo import catalog
from leadops.demo.timeline import DAY, HOUR, MINUTE, lognormal_seconds, poisson, sigmoid, working_time
from leadops.rules import STAGE_TIMESTAMP_FIELD, Stage

# Work assigned this close to the anchor is what the reps' home pages show as open.
RECENT_WORK_DAYS = 60
SYSTEM = None  # a transition without a user is made by the seeding system ("seed_demo")

# How much each behaviour adds to the propensity (in logit units); the research's buying signals weigh most.
BEHAVIOUR_WEIGHTS = {
    "demo_request": 1.3,
    "pricing_3_plus": 0.9,
    "competitor_comparison": 0.8,
    "rfp": 0.9,
    "surge_70_plus": 0.7,
    "trial": 0.6,
    "webinar_30_min": 0.5,
    "recent": 0.5,
}


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    username: str
    workload_weight: float
    recent_workload_weight: float
    utc_offset_hours: int
    away_from: int | None = None
    away_until: int | None = None

    def is_away(self, ts: int) -> bool:
        if self.away_from is None or ts < self.away_from:
            return False
        return self.away_until is None or ts <= self.away_until


@dataclass(frozen=True)
class TeamStaff:
    territory: catalog.Territory
    sdrs: tuple[StaffMember, ...]
    aes: tuple[StaffMember, ...]


@dataclass
class LeadFacts:
    """What the journey needs to know about the person and the company."""

    created_ts: int
    team: TeamStaff
    segment: str
    fit_points: float
    interest: float
    noise: float
    seniority: str
    employees: int | None
    source: str
    consent: bool
    # "regular", or one of the negative-rule kinds that get disqualified: "student", "competitor", "personal".
    kind: str
    is_target_industry: bool = False
    named_owner: StaffMember | None = None


@dataclass
class Research:
    end_ts: int
    demo_ts: int | None
    behaviour_points: float


@dataclass
class Journey:
    rng: random.Random
    facts: LeadFacts
    anchor_ts: int
    history_start_ts: int
    stage: str = Stage.NEW
    last_move_ts: int = 0
    owner: StaffMember | None = None
    assigned_ts: int | None = None
    unsubscribed_ts: int | None = None
    first_touch_webinar_minutes: int = 0
    transitions: list[tuple[str, str, int, int | None, str]] = field(default_factory=list)
    events: list[tuple[int, str, dict]] = field(default_factory=list)
    intents: list[tuple[int, str, int, str, bool]] = field(default_factory=list)
    activities: list[tuple[int, int, str, int | None, str]] = field(default_factory=list)
    # (created_ts, owner, amount, stage, closed_ts, loss_reason)
    opportunities: list[tuple[int, StaffMember, int, str, int | None, str]] = field(default_factory=list)

    # --- the lifecycle ----------------------------------------------------------------------------------------

    def run(self) -> Journey:
        facts = self.facts
        self.last_move_ts = facts.created_ts
        demo_first = self._first_touch()
        if facts.kind != "regular":
            self._negative_rule_path()
        else:
            self._regular_path(demo_first)
        self._background_engagement()
        return self

    def _negative_rule_path(self) -> None:
        reason = {
            "student": "Student",
            "competitor": "Competitor",
            "personal": "Personal e-mail address",
        }[self.facts.kind]
        created = self.facts.created_ts
        if self.rng.random() < 0.8:
            self._move(Stage.DISQUALIFIED, created + self._between(2 * MINUTE, 30 * MINUTE), reason=reason)
            return
        # Some slip through the rules and are caught by a rep a few days later.
        if self._move(Stage.LEAD, created + self._between(30, 10 * MINUTE)):
            rep = self._pick(self.facts.team.sdrs, created)
            when = working_time(created + self._between(DAY, 12 * DAY), rep.utc_offset_hours)
            self._move(Stage.DISQUALIFIED, when, by=rep, reason=reason)

    def _regular_path(self, demo_first: bool) -> None:
        rng, facts = self.rng, self.facts
        created = facts.created_ts
        if self.anchor_ts - created < 3 * HOUR and rng.random() < 0.6:
            return  # arrived in the last hours: still new, not yet processed
        if not demo_first and not self._move(Stage.LEAD, created + self._between(30, 10 * MINUTE)):
            return
        if not demo_first and rng.random() < 0.015:
            self._bad_data()
            return
        pass_start = created
        for pass_number in range(3):
            research = self._research(pass_start, demo_first and pass_number == 0)
            outcome_ts = self._work_the_pass(research, pass_number)
            if outcome_ts is None or self.stage != Stage.NURTURE:
                return
            # Nurtured leads sometimes come back: a new research phase months later, re-scored into an MQL.
            if rng.random() >= sigmoid(-1.4 + 0.8 * facts.interest):
                return
            pass_start = outcome_ts + self._between(45 * DAY, 240 * DAY)
            if pass_start >= self.anchor_ts:
                return

    def _work_the_pass(self, research: Research, pass_number: int) -> int | None:
        """Take the lead as far as its propensity and the calendar allow; the nurture time if it ends there."""
        rng, facts = self.rng, self.facts
        fit = facts.fit_points
        behaviour = research.behaviour_points
        propensity = -3.4 + 0.75 * fit + 0.75 * behaviour + facts.noise

        # MQL is marketing's call and mostly about behaviour; an inbound demo request always qualifies.
        p_mql = 1.0 if research.demo_ts is not None else sigmoid(-2.4 + 1.5 * behaviour + 0.35 * fit + facts.noise)
        mql_ts = research.end_ts + self._between(0, 2 * HOUR)
        if research.demo_ts is not None:
            mql_ts = min(mql_ts, research.demo_ts + self._between(2 * MINUTE, 20 * MINUTE))
        if rng.random() >= p_mql:
            if pass_number > 0:
                return None  # stays in nurture
            if not facts.is_target_industry and rng.random() < 0.15:
                by_ts = self.facts.created_ts + self._between(DAY, 5 * DAY)
                self._move(Stage.DISQUALIFIED, by_ts, reason="Non-target industry")
                return None
            if rng.random() < 0.75:
                nurture_ts = research.end_ts + self._between(30 * DAY, 120 * DAY)
                return self._move(Stage.NURTURE, nurture_ts, reason="No engagement")
            return None
        mql_reason = "Demo request" if research.demo_ts is not None else "Engagement crossed the MQL threshold"
        if not self._move(Stage.MQL, mql_ts, reason=mql_reason):
            return None
        # Marketing hands every MQL to an SDR of the territory; it is in their queue from here on.
        sdr = self._pick(facts.team.sdrs, mql_ts)
        self.owner = sdr
        self.assigned_ts = mql_ts + self._between(MINUTE, 30 * MINUTE)

        if rng.random() >= sigmoid(propensity + 0.9):
            # Never qualified further: the score decays and marketing takes it back.
            nurture_ts = mql_ts + self._between(20 * DAY, 75 * DAY)
            self._rep_touches(sdr, self.assigned_ts, nurture_ts, count=poisson(rng, 0.8), first_median=8 * HOUR)
            return self._to_nurture(nurture_ts, "Score decayed below the MQL threshold")
        sql_ts = max(mql_ts, research.end_ts) + lognormal_seconds(rng, 1.5 * DAY, 0.8)
        if rng.random() < 0.2:
            # Some SDRs reach out while the lead is still an MQL.
            self._rep_touches(sdr, self.assigned_ts, sql_ts, count=1 + poisson(rng, 0.5), first_median=4 * HOUR)
        if not self._move(Stage.SQL, sql_ts, reason="Score crossed the SQL cut-off"):
            return None

        # The SDR works the SQL and accepts it (hands it to an AE) or rejects it. About half decide within the
        # two-day SLA; the rest run a contact cadence of up to three weeks, and some sit on it for months, which is
        # what the stale-SQL view and the SLA clocks are for.
        hot = research.demo_ts is not None or behaviour > 2.5
        draw = rng.random()
        if draw < 0.45:
            decision_delay = lognormal_seconds(rng, DAY, 0.6)
        elif draw < 0.9:
            decision_delay = self._between(3 * DAY, 21 * DAY)
        else:
            decision_delay = self._between(21 * DAY, 90 * DAY)
        decision_ts = working_time(sql_ts + decision_delay, sdr.utc_offset_hours)
        touches = 2 + poisson(rng, 1.5)
        self._rep_touches(sdr, sql_ts, decision_ts, count=touches, first_median=(20 * MINUTE if hot else 3 * HOUR))
        if decision_ts >= self.anchor_ts:
            return None
        draw = rng.random()
        p_accept = sigmoid(propensity + 2.6)
        if draw < p_accept:
            return self._handover_to_ae(decision_ts, sdr, propensity)
        if draw < p_accept + 0.04:
            self._move(Stage.DISQUALIFIED, decision_ts, by=sdr, reason=rng.choice(catalog.BAD_DATA_REASONS))
            return None
        self._move(Stage.REJECTED, decision_ts, by=sdr, reason=self._sdr_rejection_reason())
        return self._after_rejection(decision_ts, sdr)

    def _handover_to_ae(self, accepted_ts: int, sdr: StaffMember, propensity: float) -> int | None:
        rng, facts = self.rng, self.facts
        accepted_ts = self._move(Stage.ACCEPTED, accepted_ts, by=sdr)
        if accepted_ts is None:
            return None
        ae = facts.named_owner or self._pick(facts.team.aes, accepted_ts)
        self.owner = ae
        # Booking the discovery call takes about a week; some buyers make the AE wait a month or more.
        opportunity_ts = working_time(accepted_ts + lognormal_seconds(rng, 6 * DAY, 0.7), ae.utc_offset_hours)
        if rng.random() < 0.15:
            opportunity_ts = working_time(opportunity_ts + self._between(10 * DAY, 40 * DAY), ae.utc_offset_hours)
        self._rep_touches(ae, accepted_ts, opportunity_ts - HOUR, count=poisson(rng, 1.2), first_median=5 * HOUR)
        if opportunity_ts >= self.anchor_ts:
            return None
        if rng.random() >= sigmoid(propensity + 1.6):
            self._move(Stage.REJECTED, opportunity_ts, by=ae, reason=rng.choice(catalog.AE_RETURN_REASONS))
            self.owner = sdr  # sent back to the SDR, in front of their manager
            return self._after_rejection(opportunity_ts, sdr)

        # The discovery call that created the opportunity.
        self._add_activity(max(accepted_ts + MINUTE, opportunity_ts - HOUR), ae, "meeting")
        opportunity_ts = self._move(Stage.OPPORTUNITY, opportunity_ts, by=ae)
        if opportunity_ts is None:
            return None
        amount = self._deal_amount()
        cycle_days = catalog.SALES_CYCLE_DAYS[facts.segment]
        close_ts = working_time(opportunity_ts + lognormal_seconds(rng, cycle_days * DAY, 0.5), ae.utc_offset_hours)
        self._rep_touches(
            ae, opportunity_ts + HOUR, close_ts, count=2 + poisson(rng, cycle_days / 12), first_median=DAY
        )
        won = rng.random() < sigmoid(propensity - 1.0)
        loss_reason = "" if won else rng.choice(catalog.LOSS_REASONS)
        closed_ts = self._move(Stage.WON if won else Stage.LOST, close_ts, by=ae, reason=loss_reason)
        if closed_ts is None:
            # Still open at the anchor: its stage shows how far through the usual cycle it is.
            elapsed = (self.anchor_ts - opportunity_ts) / max(1, close_ts - opportunity_ts)
            open_stage = "discovery" if elapsed < 0.35 else "proposal" if elapsed < 0.7 else "negotiation"
            self.opportunities.append((opportunity_ts, ae, amount, open_stage, None, ""))
            return None
        self.opportunities.append((opportunity_ts, ae, amount, "won" if won else "lost", closed_ts, loss_reason))
        if won:
            return None
        if rng.random() < 0.5:
            return self._to_nurture(closed_ts + self._between(14 * DAY, 60 * DAY), "Recycled after a lost deal")
        return None

    def _after_rejection(self, rejected_ts: int, sdr: StaffMember) -> int | None:
        draw = self.rng.random()
        if draw < 0.8:
            return self._to_nurture(rejected_ts + self._between(DAY, 10 * DAY), "Rejected leads go to nurture")
        if draw < 0.9:
            when = working_time(rejected_ts + self._between(DAY, 10 * DAY), sdr.utc_offset_hours)
            self._move(Stage.DISQUALIFIED, when, by=sdr, reason="Confirmed not a fit after rejection")
        return None

    def _to_nurture(self, ts: int, reason: str) -> int | None:
        """Marketing takes the lead back: no rep owns a lead in nurture."""
        nurture_ts = self._move(Stage.NURTURE, ts, reason=reason)
        if nurture_ts is not None:
            self.owner = None
        return nurture_ts

    def _bad_data(self) -> None:
        """Bounced or fake contact details; a third of them get corrected and reinstated by a rep."""
        created = self.facts.created_ts
        dq_ts = created + self._between(DAY, 10 * DAY)
        if not self._move(Stage.DISQUALIFIED, dq_ts, reason=self.rng.choice(catalog.BAD_DATA_REASONS)):
            return
        if self.rng.random() < 0.35:
            rep = self._pick(self.facts.team.sdrs, dq_ts)
            fixed_ts = working_time(dq_ts + self._between(3 * DAY, 20 * DAY), rep.utc_offset_hours)
            if self._move(Stage.LEAD, fixed_ts, by=rep, reason="Corrected contact details"):
                self._move(Stage.NURTURE, fixed_ts + self._between(30 * DAY, 90 * DAY), reason="No engagement")

    def _sdr_rejection_reason(self) -> str:
        rng, facts = self.rng, self.facts
        if facts.seniority in ("individual", "unknown") and rng.random() < 0.5:
            return catalog.WRONG_PERSONA
        if facts.segment == "smb" and (facts.employees or 0) < 25 and rng.random() < 0.5:
            return catalog.TOO_SMALL
        return rng.choice(catalog.SDR_REJECTION_REASONS)

    # --- behaviour --------------------------------------------------------------------------------------------

    def _first_touch(self) -> bool:
        """The event that created the lead; True when it was a demo request (inbound demo requests skip `lead`)."""
        rng, facts = self.rng, self.facts
        created, source = facts.created_ts, facts.source
        if facts.kind == "regular" and source in ("web", "paid_search", "organic_search") and rng.random() < 0.05:
            self._emit(created, "demo_request", {"path": "/demo", "form": "Book a demo"})
            return True
        if source == "webinar":
            minutes = self._between(5, 61)
            self._emit(created, "webinar_attended", {"webinar": rng.choice(catalog.WEBINARS), "minutes": minutes})
            self.first_touch_webinar_minutes = minutes
        elif source == "content":
            self._emit(created, "content_download", {"asset": rng.choice(catalog.CONTENT_ASSETS)})
        elif source == "event":
            self._emit(created, "form_submitted", {"form": "Badge scan", "event": rng.choice(catalog.TRADE_SHOWS)})
        elif source in ("web", "organic_search", "paid_search", "social", "email", "referral", "partner"):
            form = "Newsletter sign-up" if rng.random() < 0.3 else "Contact us"
            self._emit(created, "form_submitted", {"form": form, "path": rng.choice(catalog.WEB_PATHS)})
        return False

    def _research(self, start_ts: int, demo_first: bool) -> Research:
        """A burst of buying behaviour; returns when it ends and how much it says about the propensity."""
        rng, facts = self.rng, self.facts
        interest = facts.interest + rng.gauss(0.0, 0.4)
        research_days = min(120.0, max(2.0, rng.lognormvariate(math.log(18), 0.7)))
        end_ts = start_ts + int(research_days * DAY)
        span = end_ts - start_ts
        seen = set()

        def moment() -> int:
            return start_ts + int(rng.random() * span)

        for _ in range(poisson(rng, 2.5 * math.exp(0.4 * interest))):
            self._emit(moment(), "page_view", {"path": rng.choice(catalog.WEB_PATHS), "seconds": self._between(5, 400)})
        pricing_sessions = sum(
            self._emit(moment(), "pricing_page_visit", {"path": "/pricing"})
            for _ in range(min(8, poisson(rng, math.exp(-0.7 + 0.9 * interest))))
        )
        if pricing_sessions >= 3:
            seen.add("pricing_3_plus")
        if rng.random() < sigmoid(-3.4 + 1.0 * interest):
            competitor = rng.choice(catalog.COMPARED_COMPETITORS)
            asset = {"asset": f"LeadOps vs {competitor}", "competitor": competitor}
            if self._emit(moment(), "competitor_comparison_download", asset):
                seen.add("competitor_comparison")
        if start_ts == facts.created_ts and self.first_touch_webinar_minutes >= 30:
            seen.add("webinar_30_min")
        if rng.random() < sigmoid(-1.8 + 0.6 * interest):
            minutes = self._between(5, 61)
            if self._emit(moment(), "webinar_attended", {"webinar": rng.choice(catalog.WEBINARS), "minutes": minutes}):
                if minutes >= 30:
                    seen.add("webinar_30_min")
        if facts.segment != "enterprise" and rng.random() < sigmoid(-3.0 + 1.0 * interest):
            if self._emit(moment(), "trial_started", {"plan": "Team trial", "seats": self._between(3, 40)}):
                seen.add("trial")
        if facts.segment != "smb" and rng.random() < sigmoid(-4.0 + 1.0 * interest):
            if self._emit(moment(), "rfp_submitted", {"document": "RFP: lead management platform"}):
                seen.add("rfp")
        demo_ts = None
        if demo_first:
            demo_ts = start_ts
            seen.add("demo_request")
        elif rng.random() < sigmoid(-3.8 + 1.2 * interest + 0.3 * facts.fit_points):
            demo_ts = moment()
            if self._emit(demo_ts, "demo_request", {"path": "/demo", "form": "Book a demo"}):
                seen.add("demo_request")
            else:
                demo_ts = None
        # Third-party intent on the account tends to start before the person shows up on our site.
        surging = rng.random() < sigmoid(-1.5 + 1.1 * interest)
        for _ in range(1 + int(rng.random() * 3) if surging else poisson(rng, 0.5)):
            observed = max(self.history_start_ts, start_ts - 14 * DAY + int(rng.random() * (span + 14 * DAY)))
            surge = self._between(70, 100) if surging else self._between(15, 70)
            if observed < self.anchor_ts:
                topic = rng.choice(catalog.INTENT_TOPICS)
                self.intents.append((observed, topic, surge, rng.choice(catalog.INTENT_PROVIDERS), rng.random() < 0.35))
                if surge >= 70:
                    seen.add("surge_70_plus")
        if research_days <= 21 and seen:
            seen.add("recent")
        # Summed in a fixed order: float addition over a set would depend on string hashing, i.e. on the process.
        points = sum(weight for name, weight in BEHAVIOUR_WEIGHTS.items() if name in seen)
        return Research(end_ts=end_ts, demo_ts=demo_ts, behaviour_points=points)

    def _background_engagement(self) -> None:
        """Newsletters opened, blog posts read, the odd download: the everyday noise around the buying signals."""
        rng, facts = self.rng, self.facts
        start = facts.created_ts
        end = self.anchor_ts
        if self.stage == Stage.DISQUALIFIED and facts.kind != "regular":
            end = min(end, self.last_move_ts + 7 * DAY)
        span = end - start
        if span <= 0:
            return
        months = span / (30 * DAY)
        engagement = math.exp(0.35 * facts.interest)

        def moment() -> int:
            return start + int(span * rng.random() ** 1.6)  # engagement fades: more early than late

        consent = facts.consent
        if consent and rng.random() < 0.05:
            self.unsubscribed_ts = moment()
            self._emit(self.unsubscribed_ts, "unsubscribed", {"list": "All marketing e-mail"})
        if consent:
            for _ in range(min(60, poisson(rng, 0.7 * months * engagement))):
                opened = moment()
                if self.unsubscribed_ts is not None and opened >= self.unsubscribed_ts:
                    continue
                campaign = rng.choice(catalog.EMAIL_CAMPAIGNS)
                self._emit(opened, "email_open", {"campaign": campaign})
                if rng.random() < 0.2:
                    click = {"campaign": campaign, "url": rng.choice(catalog.WEB_PATHS)}
                    self._emit(opened + self._between(10, 30 * MINUTE), "email_click", click)
        for _ in range(min(40, poisson(rng, 0.35 * months * engagement))):
            self._emit(moment(), "page_view", {"path": rng.choice(catalog.WEB_PATHS), "seconds": self._between(5, 400)})
        for _ in range(poisson(rng, 0.06 * months * engagement)):
            self._emit(moment(), "content_download", {"asset": rng.choice(catalog.CONTENT_ASSETS)})
        if rng.random() < 0.05 * months / 6:
            self._emit(moment(), "form_submitted", {"form": "Contact us", "path": "/contact"})

    # --- building blocks --------------------------------------------------------------------------------------

    def _move(self, to_stage: str, ts: int, *, by: StaffMember | None = SYSTEM, reason: str = "") -> int | None:
        """Record a move if it happens before the anchor and return its time; None if it lies in the future."""
        ts = max(ts, self.last_move_ts + 1)  # strictly increasing, so the chain has one order
        if ts >= self.anchor_ts:
            return None
        self.transitions.append((self.stage, to_stage, ts, by.user_id if by else None, reason))
        self.stage = to_stage
        self.last_move_ts = ts
        return ts

    def _emit(self, ts: int, kind: str, properties: dict) -> bool:
        if ts >= self.anchor_ts:
            return False
        self.events.append((ts, kind, properties))
        return True

    def _rep_touches(self, rep: StaffMember, start: int, end: int, *, count: int, first_median: float) -> None:
        """Calls and e-mails by `rep` between start and end, in office hours, the first after a realistic delay."""
        ts = working_time(start + lognormal_seconds(self.rng, first_median, 1.0), rep.utc_offset_hours)
        for _ in range(count):
            if ts >= end or ts >= self.anchor_ts:
                return
            kind = "email" if self.rng.random() < 0.5 else "call"
            self._add_activity(ts, rep, kind)
            gap = self._between(DAY // 2, 4 * DAY)
            ts = working_time(ts + gap, rep.utc_offset_hours)

    def _add_activity(self, ts: int, rep: StaffMember, kind: str) -> None:
        if ts >= self.anchor_ts:
            return
        rng = self.rng
        if kind == "call":
            outcome = rng.choice(catalog.CALL_OUTCOMES)
            duration = self._between(3, 25) if outcome == "Connected" else 1
        elif kind == "meeting":
            outcome = rng.choice(catalog.MEETING_OUTCOMES)
            duration = self._between(20, 61)
        else:
            outcome, duration = rng.choice(catalog.EMAIL_OUTCOMES), None
        self.activities.append((ts, rep.user_id, kind, duration, outcome))

    def _pick(self, staff: tuple[StaffMember, ...], ts: int) -> StaffMember:
        """A weighted draw among the reps who are in the office at `ts` (everyone, if all are away)."""
        present = [member for member in staff if not member.is_away(ts)] or list(staff)
        if ts >= self.anchor_ts - RECENT_WORK_DAYS * DAY:
            weights = [member.recent_workload_weight for member in present]
        else:
            weights = [member.workload_weight for member in present]
        return self.rng.choices(present, weights=weights)[0]

    def _between(self, low: int, high: int) -> int:
        """A whole number in [low, high)."""
        return low + int(self.rng.random() * (high - low))

    def _deal_amount(self) -> int:
        median = catalog.DEAL_SIZE_BY_SEGMENT[self.facts.segment]
        return max(1_000, round(median * math.exp(self.rng.gauss(0.0, 0.5)), -2))


def stage_timestamps(transitions) -> dict[str, int]:
    """Lead timestamp fields as the lifecycle service leaves them: each holds the last entry into its stage."""
    stamps = {}
    for _from, to_stage, ts, _by, _reason in transitions:
        field_name = STAGE_TIMESTAMP_FIELD.get(to_stage)
        if field_name:
            stamps[field_name] = ts
    return stamps
