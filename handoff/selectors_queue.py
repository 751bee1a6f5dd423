"""Reads of the SDR queue page: which leads a person works (their own in working stages, the unowned ones waiting in
the queues of their territories, and for a manager the team's), in what order, and what each row shows.

Every figure a row needs (the territory whose queue holds it, the SLA due time, the top reason of its score, what the
person may do with it) comes from a fixed number of queries for the whole page, whatever the number of rows: the
order and the filters are SQL annotations, and the rest is loaded for the page's leads at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from handoff import rules, selectors
from leadops.models import Lead, LeadSource, Temperature
from leadops.permissions import role_perms
from leadops.rules import ScoreTier, Segment, Stage
from leadops.selectors import SDR_QUEUE_STAGES, team_member_ids

# An AE's own queue also holds what they took over from SDRs; an SDR's holds MQLs and SQLs.
AE_OWN_STAGES = (Stage.MQL, Stage.SQL, Stage.ACCEPTED, Stage.OPPORTUNITY)
TEMPERATURE_ORDER = (Temperature.HOT, Temperature.WARM, Temperature.COLD)
PAGE_SIZES = (25, 50, 100)
SEARCH_MAX = 100


@dataclass(frozen=True)
class QueueScope:
    """Who is asking and what they may see: the facts the queue is built from (a few queries, once per page)."""

    user: object
    perms: frozenset[str]
    own_stages: tuple[str, ...]  # stages of the person's own leads that are listed
    team_ids: frozenset[int]  # a manager: the reps of the teams they manage
    pool_territory_ids: frozenset[int]  # territories whose unowned leads are listed
    member_capacity: dict[int, int] = field(default_factory=dict)  # territory id -> monthly capacity (memberships)
    load: int = 0  # leads given to the person this month

    @property
    def is_manager(self) -> bool:
        return rules.PERM_TEAM in self.perms

    @property
    def works_queue(self) -> bool:
        return rules.PERM_WORK in self.perms

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages a row can be in, for the stage filter."""
        stages = set(self.own_stages)
        if self.pool_territory_ids:
            stages |= rules.CLAIMABLE_STAGES
        if self.team_ids:
            stages |= rules.WORKING_STAGES
        return tuple(stage for stage in Stage.ALL if stage in stages)


def queue_scope(*, user, today: date | None = None) -> QueueScope:
    """The scope of `user`'s queue. `today` decides the month of the capacity count (as handoff.selectors does)."""
    from routing.models import RepMonthlyLoad, Territory, TerritoryMember

    perms = role_perms(user)
    own_stages: tuple[str, ...] = ()
    member_capacity: dict[int, int] = {}
    load = 0
    if rules.PERM_WORK in perms:
        own_stages = AE_OWN_STAGES if rules.PERM_AE in perms else SDR_QUEUE_STAGES
        member_capacity = dict(
            TerritoryMember.objects.filter(user=user, active=True).values_list("territory_id", "monthly_capacity")
        )
        if member_capacity:
            today = today or date.today()
            load = (
                RepMonthlyLoad.objects.filter(user=user, month=today.replace(day=1))
                .values_list("assigned", flat=True)
                .first()
            ) or 0
    pool = set(member_capacity)
    team_ids: frozenset[int] = frozenset()
    if rules.PERM_TEAM in perms:
        team_ids = frozenset(row["pk"] for row in team_member_ids(manager=user)) - {user.pk}
        pool |= set(Territory.objects.filter(team__manager=user).values_list("pk", flat=True))
    return QueueScope(
        user=user,
        perms=perms,
        own_stages=own_stages,
        team_ids=team_ids,
        pool_territory_ids=frozenset(pool),
        member_capacity=member_capacity,
        load=load,
    )


def lead_territory_id():
    """The territory whose routing last placed the lead: handoff.selectors.lead_territory as an SQL expression (the
    latest decision that names a territory), so the claim the page offers is the claim the service allows."""
    from routing.models import RoutingDecision

    return Subquery(
        RoutingDecision.objects.filter(lead=OuterRef("pk"), territory__isnull=False)
        .order_by("-decided_at", "-pk")
        .values("territory_id")[:1]
    )


def sla_due_at():
    """When the lead's owner must next act: the earliest due time of the owner's running clocks on it (breached ones
    included, they are due in the past); null when none runs (unowned leads have none of their own). A clock paused
    while an ownership dispute is open stands still, so it does not put its lead first."""
    from sla.models import OPEN_STATES, SlaClock

    return Subquery(
        SlaClock.objects.filter(
            lead=OuterRef("pk"),
            owner=OuterRef("owner"),
            state__in=OPEN_STATES,
            stopped_at__isnull=True,
            paused_at__isnull=True,
        )
        .order_by("due_at", "pk")
        .values("due_at")[:1]
    )


def _temperature_rank():
    whens = [When(temperature=value, then=Value(rank)) for rank, value in enumerate(TEMPERATURE_ORDER)]
    return Case(*whens, default=Value(len(TEMPERATURE_ORDER)), output_field=IntegerField())


def queue_leads(*, scope: QueueScope) -> QuerySet[Lead]:
    """Every lead of the person's queue, annotated with `queue_territory_id`, `sla_due` and `temperature_rank`, in
    the default order (see QUEUE_SORTS)."""
    leads = Lead.objects.select_related("account", "owner").annotate(
        queue_territory_id=lead_territory_id(), sla_due=sla_due_at(), temperature_rank=_temperature_rank()
    )
    parts = []
    if scope.own_stages:
        parts.append(Q(owner=scope.user, stage__in=scope.own_stages))
    if scope.team_ids:
        parts.append(Q(owner_id__in=scope.team_ids, stage__in=rules.WORKING_STAGES))
    if scope.pool_territory_ids:
        from routing.models import RoutingDecision

        # Ever routed to one of these territories (an index on the decisions' territory finds them) narrows the
        # unowned leads before the latest-territory lookup runs on each; it follows from it, so it changes nothing.
        routed_here = RoutingDecision.objects.filter(territory_id__in=scope.pool_territory_ids).values("lead_id")
        parts.append(
            Q(
                owner__isnull=True,
                stage__in=rules.CLAIMABLE_STAGES,
                pk__in=routed_here,
                queue_territory_id__in=scope.pool_territory_ids,
            )
        )
    if not parts:
        return leads.none()
    return leads.filter(reduce(or_, parts)).order_by(*QUEUE_SORTS["due"])


def queue_open_count(*, user) -> int:
    """The navigation badge: the leads of the person's own queue (the ones they own in its stages); one COUNT."""
    perms = role_perms(user)
    if rules.PERM_WORK not in perms:
        return 0
    stages = AE_OWN_STAGES if rules.PERM_AE in perms else SDR_QUEUE_STAGES
    return Lead.objects.filter(owner=user, stage__in=stages).count()


# --- filters, search, sorting ---------------------------------------------------------------------------------------

_DEFAULT_ORDER = (
    F("sla_due").asc(nulls_last=True),
    F("temperature_rank").asc(),
    F("score_total").desc(nulls_last=True),
    F("pk").asc(),
)


def _then_default(*first):
    return (*first, *_DEFAULT_ORDER)


# Sort keys a page may ask for (`?sort=score`, `?sort=-score` reverses the first key); anything else is the default.
# Each key's natural direction is the one a rep wants first: soonest due, best score, hottest, longest untouched.
QUEUE_SORTS = {
    "due": _DEFAULT_ORDER,
    "score": _then_default(F("score_total").desc(nulls_last=True)),
    "temperature": _then_default(F("temperature_rank").asc()),
    "name": _then_default(F("last_name").asc(), F("first_name").asc()),
    "company": _then_default(F("account__name").asc(nulls_last=True)),
    "stage": _then_default(
        Case(
            *(When(stage=stage, then=Value(rank)) for rank, stage in enumerate(Stage.ALL)), output_field=IntegerField()
        ).asc()
    ),
    "activity": _then_default(F("last_activity_at").asc(nulls_first=True)),
}
SORT_LABELS = {
    "due": "SLA due",
    "score": "Score",
    "temperature": "Temperature",
    "name": "Name",
    "company": "Company",
    "stage": "Stage",
    "activity": "Last activity",
}


def _reversed(order):
    return order.expression.asc(nulls_last=True) if order.descending else order.expression.desc(nulls_last=True)


def queue_sort(leads: QuerySet[Lead], sort: str) -> tuple[QuerySet[Lead], str]:
    """The leads in the asked order and the sort key applied ('' for the default)."""
    key = sort.lstrip("-")
    if key not in QUEUE_SORTS:
        return leads.order_by(*_DEFAULT_ORDER), ""
    order = list(QUEUE_SORTS[key])
    if sort.startswith("-"):
        order[0] = _reversed(order[0])
    return leads.order_by(*order), sort


@dataclass(frozen=True)
class FilterOptions:
    """The values each filter accepts for this person (and the labels the page shows)."""

    stage: list[tuple[str, str]]
    tier: list[tuple[str, str]]
    temperature: list[tuple[str, str]]
    segment: list[tuple[str, str]]
    source: list[tuple[str, str]]
    territory: list[tuple[str, str]]
    owner: list[tuple[str, str]]


def filter_options(*, scope: QueueScope, team=None) -> FilterOptions:
    """`team`: the manager's reps (from team_reps), so the owner filter and the reassign list cost one query."""
    from routing.models import Territory

    territories = Territory.objects.filter(pk__in=scope.pool_territory_ids).order_by("name").values_list("pk", "name")
    owner = [("me", "Mine")] if scope.works_queue else []
    if scope.works_queue and scope.pool_territory_ids:
        owner.append(("none", "Unclaimed"))
    if scope.is_manager:
        owner = [("none", "Unclaimed")] + [(str(rep.pk), _name(rep)) for rep in team or ()]
    return FilterOptions(
        stage=[(stage, Stage.LABELS[stage]) for stage in scope.stages],
        tier=list(ScoreTier.CHOICES),
        temperature=list(Temperature.CHOICES),
        segment=list(Segment.CHOICES),
        source=list(LeadSource.CHOICES),
        territory=[(str(pk), name) for pk, name in territories] if scope.pool_territory_ids else [],
        owner=owner,
    )


FILTER_NAMES = ("stage", "tier", "temperature", "segment", "source", "territory", "owner")


def clean_filters(params, options: FilterOptions) -> dict[str, str]:
    """The filters of a query string that this person may use; an unknown value is dropped, never an error."""
    cleaned = {}
    for name in FILTER_NAMES:
        value = (params.get(name) or "").strip()
        if value and value in {choice for choice, _ in getattr(options, name)}:
            cleaned[name] = value
    query = " ".join((params.get("q") or "").split())[:SEARCH_MAX]
    if query:
        cleaned["q"] = query
    return cleaned


def queue_filter(leads: QuerySet[Lead], *, filters: dict[str, str], scope: QueueScope) -> QuerySet[Lead]:
    """Apply cleaned filters. The search matches every word in the first or last name, the e-mail or the company."""
    if "stage" in filters:
        leads = leads.filter(stage=filters["stage"])
    if "tier" in filters:
        leads = leads.filter(score_tier=filters["tier"])
    if "temperature" in filters:
        leads = leads.filter(temperature=filters["temperature"])
    if "segment" in filters:
        leads = leads.filter(account__segment=filters["segment"])
    if "source" in filters:
        leads = leads.filter(source=filters["source"])
    if "territory" in filters:
        leads = leads.filter(queue_territory_id=int(filters["territory"]))
    owner = filters.get("owner")
    if owner == "me":
        leads = leads.filter(owner=scope.user)
    elif owner == "none":
        leads = leads.filter(owner__isnull=True)
    elif owner:
        leads = leads.filter(owner_id=int(owner))
    for word in filters.get("q", "").split():
        leads = leads.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(account__name__icontains=word)
        )
    return leads


def team_reps(*, scope: QueueScope) -> list:
    """The reps a manager may reassign to and filter by: the people of their teams, by name (one query)."""
    if not scope.team_ids:
        return []
    User = get_user_model()
    return list(User.objects.filter(pk__in=scope.team_ids, is_active=True).order_by("first_name", "last_name", "pk"))


# --- what each row shows ----------------------------------------------------------------------------------------------


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@dataclass(frozen=True)
class TopReason:
    text: str
    detail: str = ""
    fast_track: bool = False


REFRESHING = TopReason("Score being refreshed", "New activity since the last scoring.")


def top_reasons(leads) -> dict[int, TopReason]:
    """Per lead, the first factor the lead page's explanation names (scoring.selectors.lead_score_explanation): the
    fast-track reason when a hand-raiser signal made it an SQL, else the largest positive contribution. Recomputed
    from the same facts, version and time as the lead page, for all leads at once: three queries whatever their
    number. A lead whose facts moved since it was scored says its score is being refreshed, as the lead page does."""
    from scoring import rules as engine
    from scoring.facts import engine_model, facts_from
    from scoring.models import LeadAggregate, ScoringModelVersion

    scored = [lead for lead in leads if lead.score_version_id is not None and lead.scored_at is not None]
    if not scored:
        return {}
    versions = (
        ScoringModelVersion.objects.filter(pk__in={lead.score_version_id for lead in scored})
        .select_related("model")
        .prefetch_related("rules")
    )
    models = {version.pk: engine_model(version) for version in versions}
    aggregates = LeadAggregate.objects.in_bulk([lead.pk for lead in scored])
    reasons = {}
    for lead in scored:
        model = models.get(lead.score_version_id)
        if model is None:
            continue
        result = engine.score_lead(facts_from(lead, aggregates.get(lead.pk)), model, now=lead.scored_at)
        stored = (lead.score_fit, lead.score_engagement, lead.score_intent, lead.score_buying, lead.score_total)
        if stored != (*(result.pillars[p] for p in engine.PILLARS), result.total):
            reasons[lead.pk] = REFRESHING
        elif result.fast_track:
            reasons[lead.pk] = TopReason(result.fast_track_reason, fast_track=True)
        elif result.top_positive:
            best = result.top_positive[0]
            pillar = engine.PILLAR_LABELS.get(best.pillar, best.pillar)
            points = f"{best.points:.1f}".removesuffix(".0")  # as the lead page shows it (floatformat:"-1")
            reasons[lead.pk] = TopReason(f"{best.rule_name} +{points} ({pillar})", best.matched)
    return reasons


SPARK_HEIGHT = 18
PILLARS = (
    ("score_fit", "Fit"),
    ("score_engagement", "Engagement"),
    ("score_intent", "Intent"),
    ("score_buying", "Buying signals"),
)


@dataclass
class QueueRow:
    lead: Lead
    clock: object = None  # the owner's running clock due first, or None
    territory_name: str = ""
    can_open: bool = False  # the lead page opens for this person
    top_reason: TopReason | None = None
    refusals: dict[str, str | None] = field(default_factory=dict)  # action -> why not (None: allowed)

    def allowed(self, action: str) -> bool:
        return action in self.refusals and self.refusals[action] is None

    @property
    def can_claim(self) -> bool:
        return self.allowed(rules.CLAIM)

    @property
    def can_accept(self) -> bool:
        return self.allowed(rules.ACCEPT)

    @property
    def can_reject(self) -> bool:
        return self.allowed(rules.REJECT)

    @property
    def can_log(self) -> bool:
        return self.allowed(rules.LOG_ACTIVITY)

    @property
    def can_reassign(self) -> bool:
        return self.allowed(rules.REASSIGN)

    @property
    def claim_refusal(self) -> str:
        return self.refusals.get(rules.CLAIM) or ""

    @property
    def accept_refusal(self) -> str:
        return self.refusals.get(rules.ACCEPT) or ""

    @property
    def log_refusal(self) -> str:
        return self.refusals.get(rules.LOG_ACTIVITY) or ""

    @property
    def owner_name(self) -> str:
        return _name(self.lead.owner) if self.lead.owner_id else "Unclaimed"

    @property
    def pillars(self) -> list[dict]:
        """The four pillars as the bars of a small chart 34 x 18 (x, y, height in its units)."""
        bars = []
        for index, (name, label) in enumerate(PILLARS):
            score = getattr(self.lead, name) or 0
            height = round(score * SPARK_HEIGHT / 100)
            bars.append({"label": label, "score": score, "x": index * 9, "y": SPARK_HEIGHT - height, "h": height})
        return bars

    @property
    def pillars_text(self) -> str:
        if self.lead.score_total is None:
            return "Not scored yet"
        return ", ".join(f"{p['label']} {p['score']}" for p in self.pillars)


ROW_ACTIONS = (rules.CLAIM, rules.ACCEPT, rules.REJECT, rules.LOG_ACTIVITY, rules.REASSIGN)


def row_actor_facts(*, scope: QueueScope, lead: Lead) -> rules.ActorFacts:
    """handoff.selectors.actor_facts from the page's facts (no query): the same facts, so the buttons the page shows
    are the actions the services allow."""
    in_territory, under_capacity = False, True
    if lead.owner_id is None and lead.stage in rules.CLAIMABLE_STAGES and rules.PERM_WORK in scope.perms:
        capacity = scope.member_capacity.get(lead.queue_territory_id)
        in_territory = capacity is not None
        if capacity is not None:
            under_capacity = scope.load < capacity
    return rules.ActorFacts(
        user_id=scope.user.pk,
        perms=scope.perms,
        manages_owner=lead.owner_id is not None and rules.PERM_TEAM in scope.perms and lead.owner_id in scope.team_ids,
        in_lead_territory=in_territory,
        under_capacity=under_capacity,
    )


def queue_rows(*, scope: QueueScope, leads, territory_names: dict[int, str] | None = None) -> list[QueueRow]:
    """The page's rows with their clock, territory, top reason and allowed actions: four queries for any number of
    rows (one more when a row's territory is not among `territory_names`, the ones the page already knows)."""
    from routing.models import Territory
    from sla.models import OPEN_STATES, SlaClock

    leads = list(leads)
    ids = [lead.pk for lead in leads]
    clocks: dict[int, object] = {}
    owners = {lead.pk: lead.owner_id for lead in leads}
    running = (
        SlaClock.objects.filter(lead_id__in=ids, state__in=OPEN_STATES, stopped_at__isnull=True)
        .exclude(owner__isnull=True)
        .select_related("policy")
        .order_by("due_at", "pk")
    )
    # The owner's clock due first; a paused one only when none of theirs runs (the row then says it is paused).
    for clock in sorted(running, key=lambda clock: clock.paused_at is not None) if ids else ():
        if clock.owner_id == owners[clock.lead_id]:
            clocks.setdefault(clock.lead_id, clock)
    names = dict(territory_names or {})
    missing = {lead.queue_territory_id for lead in leads if lead.queue_territory_id} - set(names)
    if missing:
        names.update(Territory.objects.filter(pk__in=missing).values_list("pk", "name"))
    reasons = top_reasons(leads)
    rows = []
    for lead in leads:
        facts, lead_facts = row_actor_facts(scope=scope, lead=lead), selectors.lead_facts(lead)
        rows.append(
            QueueRow(
                lead=lead,
                clock=clocks.get(lead.pk),
                territory_name=names.get(lead.queue_territory_id, ""),
                # A rep sees an unowned lead's page only once they claimed it (leadops.selectors.lead_list).
                can_open=lead.owner_id is not None or scope.is_manager,
                top_reason=reasons.get(lead.pk),
                refusals={action: rules.action_refusal(action, facts, lead_facts) for action in ROW_ACTIONS},
            )
        )
    return rows
