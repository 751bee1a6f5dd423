"""Reads behind the AE's handoff inbox, the managers' team queues and marketing's rejection feedback.

Every lead list starts from leadops.selectors.lead_list, so nobody sees a lead the rest of LeadOps hides from them;
each page costs a fixed number of queries however many rows it lists (counts are grouped queries, clocks are one
prefetch), pinned by the tests in tests/handoff/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Case, CharField, Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from handoff import rules
from handoff.models import LeadRejection, RejectionKind
from leadops import roles
from leadops.models import Lead, LeadSource, Opportunity
from leadops.permissions import has_role_perm
from leadops.rules import Stage
from leadops.selectors import lead_list, open_opportunities, team_member_ids
from sla.models import OPEN_STATES, ClockState, SlaClock
from sla.selectors import AT_RISK_WITHIN

AE_REVIEW_POLICY = "ae-review"
REP_ROLES = (roles.SDR, roles.AE)
# The stages a manager's queue view counts per rep, and the ones a rep's drill-down lists.
QUEUE_STAGES = (Stage.MQL, Stage.SQL, Stage.ACCEPTED)
REP_WORK_STAGES = (Stage.MQL, Stage.SQL, Stage.ACCEPTED, Stage.OPPORTUNITY)


def _running_clocks() -> QuerySet[SlaClock]:
    """Clocks still ticking (open or breached, not stopped), as sla.selectors.running reads them."""
    return SlaClock.objects.filter(state__in=OPEN_STATES, stopped_at__isnull=True)


# --- the AE's inbox ------------------------------------------------------------------------------------------------


def inbox_waiting(*, user) -> QuerySet[Lead]:
    """Accepted leads handed to this AE that they have neither taken on (SAL) nor returned, the one whose review
    clock falls due first on top; a lead without a running review clock comes last, oldest handoff first.
    Each lead carries `review_clock` (its running AE review clock for this AE, or None)."""
    review = _running_clocks().filter(policy__key=AE_REVIEW_POLICY, owner=user)
    return (
        lead_list(user=user)
        .filter(owner=user, stage=Stage.ACCEPTED, sal_at__isnull=True)
        .select_related("account", "sdr")
        .annotate(review_due_at=Subquery(review.filter(lead=OuterRef("pk")).order_by("due_at").values("due_at")[:1]))
        .prefetch_related(
            Prefetch("sla_clocks", queryset=review.select_related("policy").order_by("due_at"), to_attr="review_clocks")
        )
        .order_by(F("review_due_at").asc(nulls_last=True), "accepted_at", "pk")
    )


def inbox_sals(*, user) -> QuerySet[Lead]:
    """The AE's sales-accepted leads with no opportunity yet, taken on longest ago first."""
    return (
        lead_list(user=user)
        .filter(owner=user, stage=Stage.ACCEPTED, sal_at__isnull=False)
        .select_related("account", "sdr")
        .order_by("sal_at", "pk")
    )


def inbox_opportunities(*, user) -> QuerySet[Opportunity]:
    """The AE's open opportunities, the one expected to close first on top."""
    return open_opportunities(user=user).order_by(F("expected_close").asc(nulls_last=True), "-amount", "pk")


def inbox_allowed(*, user, lead: Lead) -> set[str]:
    """Which inbox buttons this AE gets on this lead, from the one rule the services enforce (handoff.rules).
    The AE actions depend only on the person's permissions and the lead, so no query per lead."""
    from leadops.permissions import role_perms

    actor = rules.ActorFacts(user_id=user.pk, perms=role_perms(user))
    facts = rules.LeadFacts(stage=lead.stage, owner_id=lead.owner_id, sdr_id=lead.sdr_id, sal=lead.sal_at is not None)
    return {
        action
        for action in (rules.SAL_ACCEPT, rules.RETURN, rules.OPPORTUNITY)
        if rules.action_refusal(action, actor, facts) is None
    }


# --- the managers' team queues -------------------------------------------------------------------------------------


def sees_all_teams(user) -> bool:
    return has_role_perm(user, rules.PERM_CONFIGURE)


def team_reps(*, user) -> QuerySet:
    """The SDRs and AEs whose queues this person oversees: a manager's team members and direct reports; RevOps
    (configure_territories) every rep of every team; nobody for anyone else."""
    User = get_user_model()
    reps = User.objects.filter(pk__in=User.objects.filter(groups__name__in=REP_ROLES).values("pk"))
    if sees_all_teams(user):
        pass
    elif has_role_perm(user, rules.PERM_TEAM):
        reps = reps.filter(pk__in=team_member_ids(manager=user)).exclude(pk=user.pk)
    else:
        return reps.none()
    return (
        reps.select_related("profile__team")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .order_by(F("profile__team__name").asc(nulls_last=True), "first_name", "last_name", "username")
    )


def team_rep_get(*, user, rep_id: int):
    """One rep this person oversees; the user model's DoesNotExist for anyone else (another team's rep)."""
    return team_reps(user=user).get(pk=rep_id)


def assignable_reps(*, user, role: str | None = None) -> QuerySet:
    """The active reps a lead may be reassigned to from these pages (an AE only, with `role`)."""
    reps = team_reps(user=user).filter(is_active=True)
    if role is not None:
        reps = reps.filter(pk__in=get_user_model().objects.filter(groups__name=role).values("pk"))
    return reps


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class RepQueue:
    """One rep's line on the team queues page."""

    rep: object
    team: str
    role: str
    mql: int = 0
    sql: int = 0
    accepted: int = 0
    assigned: int = 0  # leads routing counted for them this month
    capacity: int = 0
    clocks_open: int = 0
    at_risk: int = 0
    breached_today: int = 0
    oldest_sql_at: datetime | None = None
    oldest_sql_id: int | None = None

    @property
    def name(self) -> str:
        return _name(self.rep)

    @property
    def used_pct(self) -> int:
        return round(100 * self.assigned / self.capacity) if self.capacity else 100

    @property
    def at_capacity(self) -> bool:
        return self.assigned >= self.capacity


def _role_label(rep) -> str:
    names = {group.name for group in rep.groups.all()}
    return " / ".join(role for role in REP_ROLES if role in names)


def rep_queues(*, user, reps: QuerySet, now: datetime) -> list[RepQueue]:
    """Per rep: open MQLs / SQLs / accepted leads, this month's load against capacity (the largest of their
    territory memberships, else their profile's, as routing enforces), their SLA clocks (running, at risk within the
    hour, breached today) and their oldest waiting SQL. Six queries, however many reps."""
    from routing.models import RepMonthlyLoad, TerritoryMember
    from routing.selectors import month_of

    oldest = lead_list(user=user).filter(owner=OuterRef("pk"), stage=Stage.SQL).order_by("stage_changed_at", "pk")
    people = list(
        reps.annotate(
            oldest_sql_id=Subquery(oldest.values("pk")[:1]),
            oldest_sql_at=Subquery(oldest.values("stage_changed_at")[:1]),
        )
    )
    ids = [rep.pk for rep in people]
    counts = {
        row["owner_id"]: row
        for row in lead_list(user=user)
        .filter(owner_id__in=ids, stage__in=QUEUE_STAGES)
        .order_by()
        .values("owner_id")
        .annotate(
            mql=Count("pk", filter=Q(stage=Stage.MQL)),
            sql=Count("pk", filter=Q(stage=Stage.SQL)),
            accepted=Count("pk", filter=Q(stage=Stage.ACCEPTED)),
        )
    }
    day = _day_start(now)
    clocks = {
        row["owner_id"]: row
        for row in SlaClock.objects.filter(owner_id__in=ids)
        .filter(Q(state__in=OPEN_STATES, stopped_at__isnull=True) | Q(state=ClockState.BREACHED, breached_at__gte=day))
        .order_by()
        .values("owner_id")
        .annotate(
            running=Count("pk", filter=Q(state__in=OPEN_STATES, stopped_at__isnull=True)),
            # A paused clock (ownership dispute) has no next step and cannot fall due, as on the SLA team board.
            at_risk=Count(
                "pk",
                filter=Q(
                    state=ClockState.OPEN,
                    stopped_at__isnull=True,
                    next_step_at__isnull=False,
                    due_at__gt=now,
                    due_at__lte=now + AT_RISK_WITHIN,
                ),
            ),
            breached=Count("pk", filter=Q(state=ClockState.BREACHED, breached_at__gte=day)),
        )
    }
    month = month_of(timezone.localdate(now))
    loads = dict(RepMonthlyLoad.objects.filter(user_id__in=ids, month=month).values_list("user_id", "assigned"))
    capacities = dict(
        TerritoryMember.objects.filter(user_id__in=ids)
        .order_by()
        .values("user_id")
        .annotate(cap=Max("monthly_capacity"))
        .values_list("user_id", "cap")
    )
    rows = []
    for rep in people:
        profile = getattr(rep, "profile", None)
        lead_row, clock_row = counts.get(rep.pk, {}), clocks.get(rep.pk, {})
        rows.append(
            RepQueue(
                rep=rep,
                team=profile.team.name if profile is not None and profile.team is not None else "",
                role=_role_label(rep),
                mql=lead_row.get("mql", 0),
                sql=lead_row.get("sql", 0),
                accepted=lead_row.get("accepted", 0),
                assigned=loads.get(rep.pk, 0),
                capacity=capacities.get(rep.pk, profile.monthly_capacity if profile is not None else 80),
                clocks_open=clock_row.get("running", 0),
                at_risk=clock_row.get("at_risk", 0),
                breached_today=clock_row.get("breached", 0),
                oldest_sql_at=rep.oldest_sql_at,
                oldest_sql_id=rep.oldest_sql_id,
            )
        )
    return rows


def rep_leads(*, user, rep) -> QuerySet[Lead]:
    """The rep's leads in work (MQL to opportunity) that this person may see, each with `running_clocks` (the rep's
    clocks still ticking on it); the lead whose next clock falls due first on top, then the longest in stage."""
    clocks = _running_clocks().filter(owner=rep)
    return (
        lead_list(user=user)
        .filter(owner=rep, stage__in=REP_WORK_STAGES)
        .select_related("account")
        .annotate(next_due_at=Subquery(clocks.filter(lead=OuterRef("pk")).order_by("due_at").values("due_at")[:1]))
        .prefetch_related(
            Prefetch(
                "sla_clocks", queryset=clocks.select_related("policy").order_by("due_at"), to_attr="running_clocks"
            )
        )
        .order_by(F("next_due_at").asc(nulls_last=True), "stage_changed_at", "pk")
    )


def waiting_for_ae(*, user) -> QuerySet[Lead]:
    """Accepted leads nobody owns: the SDR accepted them but no AE was available, so they wait for a manager to
    assign one. A manager sees those their own team's SDRs accepted (and any no SDR accepted); RevOps sees all."""
    leads = lead_list(user=user).filter(owner__isnull=True, stage=Stage.ACCEPTED)
    if not sees_all_teams(user):
        leads = leads.filter(Q(sdr__in=team_member_ids(manager=user)) | Q(sdr__isnull=True))
    return leads.select_related("account", "sdr").order_by("accepted_at", "pk")


# --- marketing's rejection feedback --------------------------------------------------------------------------------

# Score bands of the score a lead had when it was rejected: (key, label, lowest, highest), None for open-ended.
SCORE_BANDS = (
    ("lt50", "below 50", None, 49),
    ("50-59", "50–59", 50, 59),
    ("60-69", "60–69", 60, 69),
    ("70-79", "70–79", 70, 79),
    ("80+", "80 and above", 80, None),
)
UNSCORED = ("unscored", "not scored")
BAND_LABELS = dict([(key, label) for key, label, _, _ in SCORE_BANDS] + [UNSCORED])


def _band_q(key: str) -> Q:
    """The rejections in one band (the same bounds the grouping uses)."""
    if key == UNSCORED[0]:
        return Q(score_total__isnull=True)
    for band_key, _, low, high in SCORE_BANDS:
        if band_key == key:
            q = Q(score_total__isnull=False)
            if low is not None:
                q &= Q(score_total__gte=low)
            if high is not None:
                q &= Q(score_total__lte=high)
            return q
    raise ValueError(f"unknown score band {key!r}")


def _band_case() -> Case:
    return Case(
        *[When(_band_q(key), then=Value(key)) for key, _, _, _ in SCORE_BANDS],
        default=Value(UNSCORED[0]),
        output_field=CharField(),
    )


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """From the start of `since` to the end of `until`, in the site's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(since, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def rejection_list(*, user, since: date, until: date) -> QuerySet[LeadRejection]:
    """SDR rejections and AE returns in the period of the leads this person may see, newest first."""
    start, end = period_bounds(since, until)
    return (
        LeadRejection.objects.filter(at__gte=start, at__lt=end, lead__in=lead_list(user=user).values("pk"))
        .select_related("lead__account", "reason", "by_user")
        .order_by("-at", "-pk")
    )


def rejections_filtered(
    rejections: QuerySet[LeadRejection], *, kind: str, reason: str = "", source: str = "", band: str = ""
) -> QuerySet[LeadRejection]:
    rejections = rejections.filter(kind=kind)
    if reason:
        rejections = rejections.filter(reason__code=reason)
    if source:
        rejections = rejections.filter(source=source)
    if band:
        rejections = rejections.filter(_band_q(band))
    return rejections


@dataclass
class Cell:
    key: str
    label: str
    count: int
    share: float  # percent of the facet's total
    selected: bool = False


@dataclass
class Facet:
    name: str  # the GET parameter the cells set: reason, source or band
    title: str
    total: int
    cells: list[Cell] = field(default_factory=list)


def _cells(counts: dict[str, int], labels: dict[str, str], selected: str, order=None) -> tuple[int, list[Cell]]:
    total = sum(counts.values())
    keys = order if order is not None else sorted(counts, key=lambda key: (-counts[key], labels.get(key, key)))
    cells = [
        Cell(
            key=key,
            label=labels.get(key, key or "—"),
            count=counts.get(key, 0),
            share=round(100 * counts.get(key, 0) / total, 1) if total else 0.0,
            selected=key == selected,
        )
        for key in keys
    ]
    return total, cells


def rejection_breakdown(
    rejections: QuerySet[LeadRejection], *, reason: str = "", source: str = "", band: str = ""
) -> dict:
    """The SDR rejections of the period by reason, by source and by score band, and the AE returns by reason, from
    one grouped query. Each SDR facet counts the rejections matching the other two facets' selection, so choosing a
    source shows which reasons and bands that source's rejections fall in."""
    rows = list(
        rejections.order_by()
        .values("kind", "reason__code", "reason__label", "source")
        .annotate(band=_band_case())
        .values("kind", "reason__code", "reason__label", "source", "band")
        .annotate(n=Count("pk"))
    )
    reason_labels = {row["reason__code"]: row["reason__label"] for row in rows}
    source_labels = dict(LeadSource.CHOICES)
    sdr = [row for row in rows if row["kind"] == RejectionKind.SDR_REJECT]
    chosen = {"reason": reason, "source": source, "band": band}
    keys = {"reason": "reason__code", "source": "source", "band": "band"}

    def counts_for(facet: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in sdr:
            if all(not chosen[other] or row[keys[other]] == chosen[other] for other in keys if other != facet):
                counts[row[keys[facet]]] = counts.get(row[keys[facet]], 0) + row["n"]
        return counts

    facets = []
    by_reason = counts_for("reason")
    total, cells = _cells(by_reason, reason_labels, reason)
    facets.append(Facet("reason", "By reason", total, cells))
    by_source = counts_for("source")
    total, cells = _cells(by_source, source_labels, source)
    facets.append(Facet("source", "By source", total, cells))
    by_band = counts_for("band")
    order = [key for key, _, _, _ in SCORE_BANDS] + ([UNSCORED[0]] if by_band.get(UNSCORED[0]) else [])
    total, cells = _cells(by_band, BAND_LABELS, band, order=order)
    facets.append(Facet("band", "By score at rejection", total, cells))

    returns: dict[str, int] = {}
    for row in rows:
        if row["kind"] == RejectionKind.AE_RETURN:
            returns[row["reason__code"]] = returns.get(row["reason__code"], 0) + row["n"]
    returns_total, return_cells = _cells(returns, reason_labels, "")
    return {
        "facets": facets,
        "sdr_total": sum(row["n"] for row in sdr),
        "returns": Facet("reason", "Returned by AEs, by reason", returns_total, return_cells),
    }
