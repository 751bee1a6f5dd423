"""Reads of routing: the facts the rule needs, territories, and a lead's decisions (scoped to the person asking)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from leadops.models import IntentSignal, Lead, LeadEvent
from leadops.rules import Stage, segment_for
from leadops.selectors import lead_get
from routing import rules
from routing.models import RepMonthlyLoad, RoutingDecision, Territory, TerritoryMember


def month_of(day: date) -> date:
    return day.replace(day=1)


def _latest(queryset, field_name: str):
    return Subquery(queryset.order_by(f"-{field_name}").values(field_name)[:1])


def lead_facts_many(*, lead_ids) -> dict[int, rules.LeadFacts]:
    """The routing facts of these leads, in one query (the latest signals come from correlated subqueries)."""
    rows = (
        Lead.objects.filter(pk__any_of=list(lead_ids))
        .annotate(
            last_buying=_latest(
                LeadEvent.objects.filter(lead=OuterRef("pk"), kind__in=rules.BUYING_SIGNAL_KINDS), "occurred_at"
            ),
            last_intent_lead=_latest(IntentSignal.objects.filter(lead=OuterRef("pk")), "observed_at"),
            last_intent_account=_latest(IntentSignal.objects.filter(account=OuterRef("account_id")), "observed_at"),
        )
        .values(
            "pk",
            "score_total",
            "score_fit",
            "temperature",
            "country",
            "account__country",
            "account__region",
            "account__industry",
            "account__employees",
            "account__annual_revenue",
            "account__segment",
            "account__named_account_owner_id",
            "last_buying",
            "last_intent_lead",
            "last_intent_account",
        )
    )
    facts = {}
    for row in rows:
        signals = [row[key] for key in ("last_buying", "last_intent_lead", "last_intent_account") if row[key]]
        facts[row["pk"]] = rules.LeadFacts(
            lead_id=row["pk"],
            score=row["score_total"],
            fit=row["score_fit"],
            temperature=row["temperature"] or "",
            segment=row["account__segment"] or segment_for(employees=None, annual_revenue=None),
            country=row["country"] or row["account__country"] or "",
            region=row["account__region"] or "",
            industry=row["account__industry"] or "",
            employees=row["account__employees"],
            revenue=row["account__annual_revenue"],
            last_signal_at=max(signals) if signals else None,
            named_owner_id=row["account__named_account_owner_id"],
        )
    return facts


def unrouted_sql_ids(*, since: datetime, limit: int) -> list[int]:
    """SQLs since `since` with no owner and no routing decision yet, oldest first: what a router sweeps up."""
    return list(
        Lead.objects.filter(stage=Stage.SQL, owner__isnull=True, sql_at__gte=since)
        .exclude(Exists(RoutingDecision.objects.filter(lead=OuterRef("pk"), kind="initial")))
        .order_by("sql_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def territory_list() -> QuerySet[Territory]:
    """Every territory, first looked-at first, with its team and manager; readable by every signed-in role."""
    return Territory.objects.select_related("team__manager").order_by("priority", "name")


def territory_members(*, territory_ids=None) -> QuerySet[TerritoryMember]:
    members = TerritoryMember.objects.select_related("user__profile").order_by("territory_id", "user_id")
    if territory_ids is not None:
        members = members.filter(territory_id__in=list(territory_ids))
    return members


class TerritorySetup:
    """The published territories and their members as loaded once, turned into rule facts for given loads."""

    def __init__(self, *, now: datetime):
        self.now = now
        self.today = now.date()
        self.territories = list(territory_list().filter(active=True))
        self.members = list(territory_members(territory_ids=[t.pk for t in self.territories]))
        self.user_ids = sorted({m.user_id for m in self.members})
        self._static: dict[int, list[rules.RepFacts]] = {}
        for member in self.members:
            self._static.setdefault(member.territory_id, []).append(self._rep(member))
        self._working = {t.pk: rules.working_now(t.calendar, now) for t in self.territories}
        self._member_ids = {t.pk: {rep.user_id for rep in self._static.get(t.pk, ())} for t in self.territories}

    def _rep(self, member: TerritoryMember) -> rules.RepFacts:
        user = member.user
        profile = getattr(user, "profile", None)
        ooo_from = profile.out_of_office_from if profile else None
        ooo_until = profile.out_of_office_until if profile else None
        return rules.RepFacts(
            user_id=user.pk,
            name=user.get_full_name() or user.get_username(),
            role=member.role,
            weight=Decimal(member.weight),
            active=member.active and user.is_active,
            out_of_office=rules.out_of_office_on(self.today, ooo_from, ooo_until),
            capacity=member.monthly_capacity,
            available_days=rules.available_days(
                today=self.today, member_since=member.created_at.date(), ooo_from=ooo_from, ooo_until=ooo_until
            ),
        )

    def facts(self, *, assigned: dict[int, int], excluded=frozenset()) -> list[rules.TerritoryFacts]:
        return [self._facts(territory, assigned, excluded) for territory in self.territories]

    def refresh(self, facts: list, *, user_id: int, assigned: dict[int, int], excluded=frozenset()) -> list:
        """`facts` with the territories `user_id` is a member of rebuilt for the new counts (after each lead)."""
        return [
            self._facts(territory, assigned, excluded) if user_id in self._member_ids[territory.pk] else old
            for territory, old in zip(self.territories, facts, strict=True)
        ]

    def _facts(self, territory: Territory, assigned: dict[int, int], excluded) -> rules.TerritoryFacts:
        manager = territory.team.manager
        members = tuple(
            replace(
                rep,
                assigned=assigned.get(rep.user_id, 0),
                working_now=self._working[territory.pk],
                active=rep.active and rep.user_id not in excluded,
            )
            for rep in self._static.get(territory.pk, ())
        )
        return rules.TerritoryFacts(
            territory_id=territory.pk,
            name=territory.name,
            priority=territory.priority,
            members=members,
            countries=tuple(territory.countries),
            regions=tuple(territory.regions),
            industries=tuple(territory.industries),
            segments=tuple(territory.segments),
            employees_min=territory.employees_min,
            employees_max=territory.employees_max,
            revenue_min=territory.revenue_min,
            revenue_max=territory.revenue_max,
            overflow_owner_id=manager.pk if manager else None,
            overflow_owner_name=(manager.get_full_name() or manager.get_username()) if manager else "",
            active=territory.active,
            setup_version=territory.setup_version,
        )


def monthly_loads(*, user_ids, month: date) -> dict[int, int]:
    return dict(
        RepMonthlyLoad.objects.filter(month=month, user_id__in=list(user_ids)).values_list("user_id", "assigned")
    )


def named_owner_facts(*, user_ids, today: date, excluded=frozenset()) -> dict[int, rules.NamedOwnerFacts]:
    users = get_user_model().objects.filter(pk__in=list(user_ids)).select_related("profile")
    facts = {}
    for user in users:
        profile = getattr(user, "profile", None)
        facts[user.pk] = rules.NamedOwnerFacts(
            user_id=user.pk,
            name=user.get_full_name() or user.get_username(),
            active=user.is_active and user.pk not in excluded,
            out_of_office=bool(profile and profile.is_out_of_office(today)),
        )
    return facts


def route_preview(*, lead: rules.LeadFacts, now: datetime) -> rules.Decision:
    """Where this lead (real or described) would go now under the published set-up; writes nothing."""
    setup = TerritorySetup(now=now)
    owners = named_owner_facts(user_ids=[lead.named_owner_id], today=now.date()) if lead.named_owner_id else {}
    return rules.route(
        lead=lead,
        territories=setup.facts(assigned=monthly_loads(user_ids=setup.user_ids, month=month_of(now.date()))),
        now=now,
        named_owner=owners.get(lead.named_owner_id),
    )


def routing_decision_list(*, user, lead_id: int) -> QuerySet[RoutingDecision]:
    """A lead's decisions, newest first, if the person may see the lead (Lead.DoesNotExist otherwise)."""
    lead_get(user=user, lead_id=lead_id)
    return routing_decisions_of(lead_id=lead_id)


def routing_decisions_of(*, lead_id: int) -> QuerySet[RoutingDecision]:
    """For a caller that has already checked the lead is visible (the lead page's panel)."""
    return (
        RoutingDecision.objects.filter(lead_id=lead_id)
        .select_related("assignee", "queue_owner", "territory", "by_user")
        .order_by("-decided_at", "-id")
    )
