"""The life of one demo lead: what it does on our site, how far it gets in the funnel, and who works it.

The causal chain the later scoring work has to find in the data (DESIGN.md section 2):

1. Fit (target industry, revenue $10M-$1B, 50-10,000 employees, VP+ or C-level) and a hidden interest level.
2. Interest drives behaviour in a research phase: page views, content, e-mails, pricing sessions, competitor
   comparisons, webinars, trials, hand-raisers (demo requests, contact-sales forms, RFPs), and third-party intent
   surges on the account. Buying signals and intent gather towards the end of the phase, when the buyer is close to
   a decision, and a hand-raiser keeps researching while sales gets in touch.
3. A propensity computed from fit and the behaviour that actually happened before each decision (plus noise)
   decides every step: MQL, SQL, acceptance, opportunity and the win. A hand-raiser whose profile fits becomes an
   SQL at once (the playbook's fast-track); other MQLs need a strong profile and strong behaviour. In an
   opportunity, the buying committee's late-stage activity (procurement, pricing, intent) makes the win likelier,
   and a new customer's champion comes back for onboarding and, often, more seats.

So the demo world looks the way the default scoring model expects when LeadOps scores it: leads that qualified in
the last weeks show fresh behaviour, and deals closed in the last weeks show their buying activity.

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
    "contact_sales": 1.1,
}

# Hand-raisers (DESIGN.md section 2, "Demo Request: MQL none, SQL yes"): the event each one leaves, and its name in
# the lifecycle's reasons. A contact-sales form is named "Contact ..."; sign-up forms are not (catalog.SIGN_UP_FORMS).
HAND_RAISERS = {
    "demo_request": ("demo_request", {"path": "/demo", "form": "Book a demo"}, "Demo request"),
    "contact_sales": ("form_submitted", {"path": "/contact-sales", "form": "Contact sales"}, "Contact-sales form"),
    "rfp": ("rfp_submitted", {"document": "RFP: lead management platform"}, "RFP submitted"),
}

# Offsets (logit units) of each step's propensity, tuned so that, once LeadOps has scored the demo world, the funnel
# converts like B2B benchmarks: about a third of leads become MQLs, 13-25% of MQLs SQLs, 20-50% of SQLs
# opportunities, and 15-30% of closed opportunities are won.
MQL_BIAS = -2.3
# A hand-raiser becomes an SQL when its profile fits (as the model's fast-track asks for a fit of 40 or more).
HAND_RAISER_SQL_BIAS = 1.0
HAND_RAISER_FIT_CRITERIA = 2  # of: target industry, revenue band, head-count band, director or above
# Any other MQL needs the score to cross its segment's cut-off, which is higher for larger companies and takes a
# strong profile as well as strong behaviour.
SCORE_SQL_BIAS = {"smb": -0.5, "mid_market": -2.5, "enterprise": -4.0}
SCORE_SQL_FIT_CRITERIA = 3
ACCEPT_BIAS = 0.8
OPPORTUNITY_BIAS = 0.6
WIN_BIAS = -3.6
# Late-stage activity in an opportunity (procurement, pricing, intent): how likely, and what it adds to the win.
LATE_STAGE_BIAS = -0.3
LATE_STAGE_WEIGHT = 1.5
# How likely a new customer's champion asks for more seats within four months of the win (land and expand).
EXPANSION_BIAS = 0.5
# Mean page views, content downloads and e-mail opens of a research phase at average interest.
RESEARCH_PAGE_VIEWS = 3.5
RESEARCH_DOWNLOADS = 0.5
RESEARCH_EMAIL_OPENS = 1.2
# How long a hand-raiser keeps researching after raising their hand.
FOLLOW_UP_DAYS = 21


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
    # How many fit criteria it meets: target industry, revenue band, head-count band, director or above.
    fit_criteria: int
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
    behaviour_points: float
    # The first hand-raiser signal of the phase (a demo request, a contact-sales form or an RFP), if there was one.
    hand_raise_ts: int | None = None
    hand_raise: str = ""


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
        hand_raise_first = self._first_touch()
        if facts.kind != "regular":
            self._negative_rule_path()
        else:
            self._regular_path(hand_raise_first)
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

    def _regular_path(self, hand_raise_first: str) -> None:
        rng, facts = self.rng, self.facts
        created = facts.created_ts
        if self.anchor_ts - created < 3 * HOUR and rng.random() < 0.6:
            return  # arrived in the last hours: still new, not yet processed
        if not hand_raise_first and not self._move(Stage.LEAD, created + self._between(30, 10 * MINUTE)):
            return
        if not hand_raise_first and rng.random() < 0.015:
            self._bad_data()
            return
        pass_start = created
        for pass_number in range(3):
            research = self._research(pass_start, hand_raise_first if pass_number == 0 else "")
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
        hand_raised = research.hand_raise_ts is not None

        # MQL is marketing's call and mostly about behaviour; a hand-raiser always qualifies.
        p_mql = 1.0 if hand_raised else sigmoid(MQL_BIAS + 1.5 * behaviour + 0.35 * fit + facts.noise)
        mql_ts = research.end_ts + self._between(0, 2 * HOUR)
        if hand_raised:
            mql_ts = min(mql_ts, research.hand_raise_ts + self._between(2 * MINUTE, 20 * MINUTE))
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
        hand_raiser_words = HAND_RAISERS[research.hand_raise][2] if hand_raised else ""
        if not self._move(Stage.MQL, mql_ts, reason=hand_raiser_words or "Engagement crossed the MQL threshold"):
            return None
        # Marketing hands every MQL to an SDR of the territory; it is in their queue from here on.
        sdr = self._pick(facts.team.sdrs, mql_ts)
        self.owner = sdr
        self.assigned_ts = mql_ts + self._between(MINUTE, 30 * MINUTE)

        if hand_raised:
            # The playbook fast-tracks a hand-raiser whose profile fits; a poor fit stays with marketing.
            fits = facts.fit_criteria >= HAND_RAISER_FIT_CRITERIA
            p_sql = sigmoid(HAND_RAISER_SQL_BIAS + fit + facts.noise) if fits else 0.0
            sql_ts = mql_ts + self._between(MINUTE, 10 * MINUTE)
            sql_reason = f"Fast-tracked: {hand_raiser_words}"
        else:
            # Without a raised hand the score has to cross the segment's cut-off, which is higher for larger
            # companies and takes a strong profile as well as strong behaviour; most MQLs never get there.
            segment_bias = SCORE_SQL_BIAS.get(facts.segment, SCORE_SQL_BIAS["smb"])
            strong_fit = facts.fit_criteria >= SCORE_SQL_FIT_CRITERIA
            p_sql = sigmoid(propensity + segment_bias) if strong_fit else 0.0
            sql_ts = max(mql_ts, research.end_ts) + lognormal_seconds(rng, DAY, 0.8)
            sql_reason = "Score crossed the SQL cut-off"
        if rng.random() >= p_sql:
            # Never qualified further: the score decays and marketing takes it back.
            nurture_ts = max(mql_ts, research.end_ts) + self._between(14 * DAY, 60 * DAY)
            self._rep_touches(sdr, self.assigned_ts, nurture_ts, count=poisson(rng, 0.8), first_median=8 * HOUR)
            return self._to_nurture(nurture_ts, "Score decayed below the MQL threshold")
        if not hand_raised and rng.random() < 0.2:
            # Some SDRs reach out while the lead is still an MQL.
            self._rep_touches(sdr, self.assigned_ts, sql_ts, count=1 + poisson(rng, 0.5), first_median=4 * HOUR)
        if not self._move(Stage.SQL, sql_ts, reason=sql_reason):
            return None

        # The SDR works the SQL and accepts it (hands it to an AE) or rejects it. Many decide within the two-day
        # SLA; most others run a contact cadence of up to three weeks, and some sit on it for weeks more, which is
        # what the stale-SQL view and the SLA clocks are for.
        hot = hand_raised or behaviour > 2.5
        draw = rng.random()
        if draw < 0.4:
            decision_delay = lognormal_seconds(rng, DAY, 0.6)
        elif draw < 0.9:
            decision_delay = self._between(2 * DAY, 21 * DAY)
        else:
            decision_delay = self._between(21 * DAY, 45 * DAY)
        decision_ts = working_time(sql_ts + decision_delay, sdr.utc_offset_hours)
        touches = 2 + poisson(rng, 1.5)
        self._rep_touches(sdr, sql_ts, decision_ts, count=touches, first_median=(20 * MINUTE if hot else 3 * HOUR))
        if decision_ts >= self.anchor_ts:
            return None
        draw = rng.random()
        p_accept = sigmoid(propensity + ACCEPT_BIAS)
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
        # Booking the discovery call takes one to two weeks; some buyers make the AE wait a month or more.
        opportunity_ts = working_time(accepted_ts + lognormal_seconds(rng, 10 * DAY, 0.6), ae.utc_offset_hours)
        if rng.random() < 0.15:
            opportunity_ts = working_time(opportunity_ts + self._between(10 * DAY, 40 * DAY), ae.utc_offset_hours)
        self._rep_touches(ae, accepted_ts, opportunity_ts - HOUR, count=poisson(rng, 1.2), first_median=5 * HOUR)
        if opportunity_ts >= self.anchor_ts:
            return None
        if rng.random() >= sigmoid(propensity + OPPORTUNITY_BIAS):
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
        decision_ts = working_time(opportunity_ts + lognormal_seconds(rng, cycle_days * DAY, 0.5), ae.utc_offset_hours)
        momentum = self._evaluation(opportunity_ts, decision_ts)
        won = rng.random() < sigmoid(propensity + momentum + WIN_BIAS)
        close_ts = decision_ts
        if not won:
            # A deal that is lost has usually gone quiet first: the AE chases it for weeks before closing it.
            close_ts = working_time(decision_ts + self._between(21 * DAY, 75 * DAY), ae.utc_offset_hours)
        self._rep_touches(
            ae, opportunity_ts + HOUR, close_ts, count=2 + poisson(rng, cycle_days / 12), first_median=DAY
        )
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
            self._customer(closed_ts)
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

    def _first_touch(self) -> str:
        """The event that created the lead; the hand-raiser kind when it was one (hand-raisers skip `lead`)."""
        rng, facts = self.rng, self.facts
        created, source = facts.created_ts, facts.source
        if facts.kind == "regular" and source in ("web", "paid_search", "organic_search"):
            draw = rng.random()
            for kind, share in (("demo_request", 0.03), ("contact_sales", 0.015)):
                if draw < share:
                    self._hand_raise(created, kind)
                    return kind
                draw -= share
        if source == "webinar":
            minutes = self._between(5, 61)
            self._emit(created, "webinar_attended", {"webinar": rng.choice(catalog.WEBINARS), "minutes": minutes})
            self.first_touch_webinar_minutes = minutes
        elif source == "content":
            self._emit(created, "content_download", {"asset": rng.choice(catalog.CONTENT_ASSETS)})
        elif source == "event":
            self._emit(created, "form_submitted", {"form": "Badge scan", "event": rng.choice(catalog.TRADE_SHOWS)})
        elif source in ("web", "organic_search", "paid_search", "social", "email", "referral", "partner"):
            self._emit(created, "form_submitted", {"form": rng.choice(catalog.SIGN_UP_FORMS), "path": "/resources"})
        return ""

    def _research(self, start_ts: int, hand_raise_first: str) -> Research:
        """A burst of buying behaviour; returns when it ends and how much it says about the propensity.

        Buying signals gather towards the end of the phase, when the buyer is close to a decision, and so does the
        third-party intent on the account: a lead that has just qualified shows fresh behaviour.
        """
        rng, facts = self.rng, self.facts
        interest = facts.interest + rng.gauss(0.0, 0.4)
        research_days = min(120.0, max(2.0, rng.lognormvariate(math.log(18), 0.7)))
        end_ts = start_ts + int(research_days * DAY)
        span = end_ts - start_ts
        seen = set()
        hand_raises: list[tuple[int, str]] = []

        def moment() -> int:
            return start_ts + int(rng.random() * span)

        def late() -> int:
            return start_ts + int(span * rng.random() ** 0.5)

        for _ in range(poisson(rng, RESEARCH_PAGE_VIEWS * math.exp(0.6 * interest))):
            path = rng.choice(catalog.PRODUCT_PATHS if rng.random() < 0.4 else catalog.WEB_PATHS)
            self._emit(moment(), "page_view", {"path": path, "seconds": self._between(5, 400)})
        for _ in range(poisson(rng, RESEARCH_DOWNLOADS * math.exp(0.6 * interest))):
            self._emit(moment(), "content_download", {"asset": rng.choice(catalog.CONTENT_ASSETS)})
        if facts.consent:
            # A buyer in research reads the nurture e-mails too, and follows their links.
            for _ in range(poisson(rng, RESEARCH_EMAIL_OPENS * math.exp(0.5 * interest))):
                opened = moment()
                campaign = rng.choice(catalog.EMAIL_CAMPAIGNS)
                self._emit(opened, "email_open", {"campaign": campaign})
                if rng.random() < 0.4:
                    click = {"campaign": campaign, "url": rng.choice(catalog.PRODUCT_PATHS)}
                    self._emit(opened + self._between(10, 30 * MINUTE), "email_click", click)
        pricing_sessions = sum(
            self._emit(late(), "pricing_page_visit", {"path": "/pricing"})
            for _ in range(min(8, poisson(rng, math.exp(-0.7 + 0.9 * interest))))
        )
        if pricing_sessions >= 3:
            seen.add("pricing_3_plus")
        if rng.random() < sigmoid(-3.4 + 1.0 * interest):
            competitor = rng.choice(catalog.COMPARED_COMPETITORS)
            asset = {"asset": f"LeadOps vs {competitor}", "competitor": competitor}
            if self._emit(late(), "competitor_comparison_download", asset):
                seen.add("competitor_comparison")
        if start_ts == facts.created_ts and self.first_touch_webinar_minutes >= 30:
            seen.add("webinar_30_min")
        if rng.random() < sigmoid(-1.5 + 0.7 * interest):
            minutes = self._between(5, 61)
            if self._emit(moment(), "webinar_attended", {"webinar": rng.choice(catalog.WEBINARS), "minutes": minutes}):
                if minutes >= 30:
                    seen.add("webinar_30_min")
        if facts.segment != "enterprise" and rng.random() < sigmoid(-3.0 + 1.0 * interest):
            if self._emit(late(), "trial_started", {"plan": "Team trial", "seats": self._between(3, 40)}):
                seen.add("trial")
        if facts.segment != "smb" and rng.random() < sigmoid(-4.7 + 1.0 * interest):
            hand_raises.append((late(), "rfp"))
        if rng.random() < sigmoid(-5.3 + 1.0 * interest + 0.3 * facts.fit_points):
            hand_raises.append((late(), "contact_sales"))
        if not hand_raise_first and rng.random() < sigmoid(-4.4 + 1.2 * interest + 0.3 * facts.fit_points):
            hand_raises.append((late(), "demo_request"))
        # The first touch that raised a hand is stored already (_first_touch); the others happen if they are past.
        raised = [(start_ts, hand_raise_first)] if hand_raise_first else []
        raised += [(ts, kind) for ts, kind in sorted(hand_raises) if self._hand_raise(ts, kind)]
        seen.update(kind for _, kind in raised)
        hand_raise_ts, hand_raise = min(raised) if raised else (None, "")
        if hand_raise_ts is not None:
            self._follow_up(hand_raise_ts, interest)
        # Third-party intent on the account builds up with the research and peaks around the decision.
        surging = rng.random() < sigmoid(-1.5 + 1.1 * interest)
        for _ in range(1 + int(rng.random() * 3) if surging else poisson(rng, 0.5)):
            observed = max(self.history_start_ts, start_ts - 14 * DAY, end_ts - 28 * DAY + int(rng.random() * 35 * DAY))
            surge = self._between(70, 100) if surging else self._between(15, 70)
            if self._intent(observed, surge, with_lead=rng.random() < 0.35) and surge >= 70:
                seen.add("surge_70_plus")
        if research_days <= 21 and seen:
            seen.add("recent")
        # Summed in a fixed order: float addition over a set would depend on string hashing, i.e. on the process.
        points = sum(weight for name, weight in BEHAVIOUR_WEIGHTS.items() if name in seen)
        return Research(end_ts=end_ts, behaviour_points=points, hand_raise_ts=hand_raise_ts, hand_raise=hand_raise)

    def _follow_up(self, hand_raise_ts: int, interest: float) -> None:
        """A hand-raiser keeps researching while sales gets in touch: product pages, pricing, the odd download."""
        rng = self.rng

        def soon() -> int:
            return hand_raise_ts + int(FOLLOW_UP_DAYS * DAY * rng.random())

        for _ in range(poisson(rng, 6.0 * math.exp(0.9 * interest))):
            path = rng.choice(catalog.PRODUCT_PATHS)
            self._emit(soon(), "page_view", {"path": path, "seconds": self._between(20, 600)})
        for _ in range(poisson(rng, math.exp(0.5 * interest))):
            self._emit(soon(), "pricing_page_visit", {"path": "/pricing"})
        for _ in range(poisson(rng, math.exp(0.9 * interest))):
            self._emit(soon(), "content_download", {"asset": rng.choice(catalog.CONTENT_ASSETS)})
        if rng.random() < sigmoid(-0.5 + 1.2 * interest):
            minutes = self._between(20, 61)
            self._emit(soon(), "webinar_attended", {"webinar": rng.choice(catalog.WEBINARS), "minutes": minutes})
        if self.facts.consent:
            for _ in range(poisson(rng, 1.5 * math.exp(0.8 * interest))):
                click = {"campaign": rng.choice(catalog.EMAIL_CAMPAIGNS), "url": rng.choice(catalog.PRODUCT_PATHS)}
                self._emit(soon(), "email_click", click)

    def _evaluation(self, start_ts: int, close_ts: int) -> float:
        """The buying committee at work during an opportunity; returns what it adds to the propensity of the win.

        Evaluation visits go on throughout the cycle. In its last weeks, buyers who mean to sign go through
        procurement (an RFP or a quote request), look at pricing again and their company researches the category;
        buyers who go quiet there rarely sign.
        """
        rng, facts = self.rng, self.facts
        span = max(DAY, close_ts - start_ts)
        interest = facts.interest + rng.gauss(0.0, 0.5)
        for _ in range(poisson(rng, 2.0 * math.exp(0.4 * interest))):
            when, path = start_ts + int(rng.random() * span), rng.choice(catalog.EVALUATION_PATHS)
            self._emit(when, "page_view", {"path": path, "seconds": self._between(20, 600)})
        if rng.random() >= sigmoid(LATE_STAGE_BIAS + 0.8 * interest):
            return 0.0
        late_start = max(start_ts, close_ts - 7 * DAY)
        late_span = close_ts - late_start

        def late() -> int:
            return late_start + int(rng.random() * late_span)

        for _ in range(1 + poisson(rng, 1.5)):
            self._emit(late(), "pricing_page_visit", {"path": "/pricing"})
        if facts.segment != "smb" and rng.random() < 0.9:
            self._emit(late(), "rfp_submitted", {"document": "RFP: lead management platform (procurement)"})
        elif rng.random() < 0.9:
            self._emit(late(), "form_submitted", {"form": "Contact sales: quote request", "path": "/contact-sales"})
        for _ in range(1 + int(rng.random() * 2)):
            self._intent(late(), self._between(70, 100), with_lead=False)
        return LATE_STAGE_WEIGHT

    def _customer(self, won_ts: int) -> None:
        """A new customer's champion: onboarding in the weeks after signing, and later, often, more seats."""
        rng, facts = self.rng, self.facts
        for _ in range(poisson(rng, 4.0)):
            path = rng.choice(catalog.ONBOARDING_PATHS)
            when = won_ts + self._between(DAY, 60 * DAY)
            self._emit(when, "page_view", {"path": path, "seconds": self._between(30, 900)})
        if rng.random() < 0.6:
            webinar = {"webinar": catalog.ONBOARDING_WEBINAR, "minutes": self._between(30, 61)}
            self._emit(won_ts + self._between(3 * DAY, 30 * DAY), "webinar_attended", webinar)
        if rng.random() < sigmoid(EXPANSION_BIAS + 0.5 * facts.interest):
            when = won_ts + self._between(30 * DAY, 120 * DAY)
            self._emit(when, "form_submitted", {"form": "Contact sales: more seats", "path": "/contact-sales"})

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
            registration = {"form": "Event registration", "event": rng.choice(catalog.TRADE_SHOWS)}
            self._emit(moment(), "form_submitted", registration)

    def _hand_raise(self, ts: int, kind: str) -> bool:
        event_kind, properties, _words = HAND_RAISERS[kind]
        return self._emit(ts, event_kind, dict(properties))

    def _intent(self, observed: int, surge: int, *, with_lead: bool) -> bool:
        """A third-party intent signal on the account (about this lead when `with_lead`), if it is in the past."""
        if observed >= self.anchor_ts:
            return False
        rng = self.rng
        self.intents.append(
            (observed, rng.choice(catalog.INTENT_TOPICS), surge, rng.choice(catalog.INTENT_PROVIDERS), with_lead)
        )
        return True

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
