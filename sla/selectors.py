"""Reads of the SLA, scoped to the person asking: a lead's clocks, a rep's open clocks, a team's board, the policy
changes waiting for a second person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from leadops.models import Lead
from leadops.permissions import has_any_role_perm
from leadops.selectors import lead_list
from sla.models import OPEN_STATES, ChangeStatus, ClockState, SlaClock, SlaPolicy, SlaPolicyChange

AT_RISK_WITHIN = timedelta(hours=1)


def clocks_of_lead(*, lead_id: int) -> QuerySet[SlaClock]:
    """Every clock of a lead, newest first (the caller has checked the lead is visible)."""
    return (
        SlaClock.objects.filter(lead_id=lead_id)
        .select_related("policy", "owner")
        .prefetch_related("escalations")
        .order_by("-started_at", "-pk")
    )


def clock_list_for_lead(*, user, lead_id: int) -> QuerySet[SlaClock]:
    """A lead's clocks for someone who may see the lead; Lead.DoesNotExist otherwise."""
    if not lead_list(user=user).filter(pk=lead_id).exists():
        raise Lead.DoesNotExist(f"No lead {lead_id} visible to this user.")
    return clocks_of_lead(lead_id=lead_id)


def running(queryset: QuerySet[SlaClock]) -> QuerySet[SlaClock]:
    return queryset.filter(state__in=OPEN_STATES, stopped_at__isnull=True)


def my_open_clocks(*, user) -> QuerySet[SlaClock]:
    """The clocks running on the person's leads, soonest due first (breached ones first of all)."""
    return running(SlaClock.objects.filter(owner=user)).select_related("policy", "lead").order_by("due_at", "pk")


def team_clocks(*, user) -> QuerySet[SlaClock]:
    """Clocks on the leads the person may see (a manager: the team's; an admin: all)."""
    return SlaClock.objects.filter(lead__in=lead_list(user=user).values("pk"))


@dataclass(frozen=True)
class PolicyCompliance:
    policy: SlaPolicy
    met: int
    breached: int

    @property
    def closed(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        return round(100 * self.met / self.closed, 1) if self.closed else None


def compliance(*, clocks: QuerySet[SlaClock], since: datetime, until: datetime) -> list[PolicyCompliance]:
    """Per policy, the clocks that ended in the period: met (stopped in time) against breached (went past due).
    One query."""
    rows = (
        clocks.filter(
            Q(state=ClockState.MET, met_at__gte=since, met_at__lt=until)
            | Q(state=ClockState.BREACHED, breached_at__gte=since, breached_at__lt=until)
        )
        .values("policy_id")
        .annotate(
            met=Count("pk", filter=Q(state=ClockState.MET)),
            breached=Count("pk", filter=Q(state=ClockState.BREACHED)),
        )
    )
    counts = {row["policy_id"]: row for row in rows}
    return [
        PolicyCompliance(policy, counts.get(policy.pk, {}).get("met", 0), counts.get(policy.pk, {}).get("breached", 0))
        for policy in SlaPolicy.objects.order_by("order", "key")
    ]


def week_start(now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def team_board(*, user, now: datetime) -> dict:
    clocks = team_clocks(user=user)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    per_policy = compliance(clocks=clocks, since=week_start(now), until=now + timedelta(seconds=1))
    met = sum(row.met for row in per_policy)
    closed = sum(row.closed for row in per_policy)
    related = ("policy", "lead", "owner")
    return {
        "at_risk": list(
            running(clocks)
            .filter(state=ClockState.OPEN, paused_at__isnull=True, due_at__gt=now, due_at__lte=now + AT_RISK_WITHIN)
            .select_related(*related)
            .order_by("due_at")[:100]
        ),
        "breached_today": list(
            clocks.filter(state=ClockState.BREACHED, breached_at__gte=day)
            .select_related(*related)
            .order_by("-breached_at")[:100]
        ),
        "per_policy": [row for row in per_policy if row.closed],
        "week_rate": round(100 * met / closed, 1) if closed else None,
        "week_closed": closed,
    }


# Who sees policy changes: RevOps, who propose them, and whoever may approve them (sla.services.POLICY_APPROVE_PERMS).
POLICY_CHANGE_READERS = ("leadops.configure_territories", "leadops.approve_scoring_rules")


def policy_changes(*, user, policy: SlaPolicy | None = None) -> QuerySet[SlaPolicyChange]:
    """Policy changes, newest first, with what the pages show of them (one query plus one for the contributors);
    none for someone who neither configures policies nor approves changes."""
    if not has_any_role_perm(user, POLICY_CHANGE_READERS):
        return SlaPolicyChange.objects.none()
    changes = SlaPolicyChange.objects.select_related("policy", "proposed_by", "decided_by").prefetch_related(
        "contributors"
    )
    return changes.filter(policy=policy) if policy is not None else changes


def pending_policy_changes(*, user, policy: SlaPolicy | None = None) -> QuerySet[SlaPolicyChange]:
    return policy_changes(user=user, policy=policy).filter(status=ChangeStatus.PENDING)


def policy_changes_to_decide(*, user) -> QuerySet[SlaPolicyChange]:
    """Pending changes this person may approve or reject: none they proposed or co-proposed (the same four eyes as
    sla.services.policy_change_refusal, which a test proves the two agree on)."""
    return pending_policy_changes(user=user).exclude(contributors=user).exclude(proposed_by=user)
