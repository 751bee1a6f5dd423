"""Reads of the core domain, always scoped to the person asking."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from leadops.models import AuditEntry, IntentSignal, Lead, Opportunity, Team
from leadops.permissions import has_role_perm
from leadops.rules import Stage

# What an SDR works: leads marketing qualified and SQLs waiting for accept / reject.
SDR_QUEUE_STAGES = (Stage.MQL, Stage.SQL)
# Stages in which a lead nobody owns is waiting for a manager (borderline review, overflow or generalist queue, or
# an accepted lead no AE was available for).
UNOWNED_WAITING_STAGES = (Stage.MQL, Stage.SQL, Stage.ACCEPTED)
# What an AE works: SALs handed over and open opportunities.
AE_QUEUE_STAGES = (Stage.ACCEPTED, Stage.OPPORTUNITY)


def team_member_ids(*, manager) -> QuerySet:
    """Users in the teams this person manages, plus their direct reports."""
    User = get_user_model()
    return User.objects.filter(Q(profile__team__manager=manager) | Q(profile__manager=manager)).values("pk")


def lead_list(*, user) -> QuerySet[Lead]:
    """Every lead this person may see: all for marketing and admins, the team's for managers, one's own (and, for an
    SDR, those they handed to an AE) for reps."""
    leads = Lead.objects.select_related("account", "owner")
    if has_role_perm(user, "leadops.view_all_leads"):
        return leads
    if has_role_perm(user, "leadops.view_team_leads"):
        # MQLs and SQLs nobody owns yet wait for a manager's call (a borderline review, an overflow or generalist
        # queue): every manager sees them, as the queues that list them do.
        waiting = Q(owner__isnull=True, stage__in=UNOWNED_WAITING_STAGES)
        return leads.filter(Q(owner__in=team_member_ids(manager=user)) | Q(owner=user) | waiting)
    if has_role_perm(user, "leadops.view_lead"):
        # An SDR keeps sight of the SQLs they accepted and handed to an AE (the AE may return them).
        return leads.filter(Q(owner=user) | Q(sdr=user))
    return leads.none()


def lead_get(*, user, lead_id: int) -> Lead:
    return lead_list(user=user).select_related("sdr").get(pk=lead_id)


def intent_signals_of(*, lead: Lead) -> QuerySet[IntentSignal]:
    """Intent signals about the lead itself or its company, newest first."""
    about = Q(lead=lead)
    if lead.account_id:
        about |= Q(account_id=lead.account_id, lead__isnull=True)
    return IntentSignal.objects.filter(about).order_by("-observed_at", "-pk")


def lead_queue(*, user, stages=SDR_QUEUE_STAGES) -> QuerySet[Lead]:
    """A rep's own working queue, hottest first, oldest first among equals."""
    return (
        Lead.objects.filter(owner=user, stage__in=stages)
        .select_related("account")
        .order_by("-score_total", "stage_changed_at", "pk")
    )


# DESIGN.md: an SDR accepts or rejects an SQL within 2 business days. Until the SLA clocks (business time, per
# territory calendar) exist, the manager's page flags SQLs left longer than 2 calendar days.
SQL_ACCEPT_TARGET = timedelta(days=2)


def sqls_waiting_too_long(*, leads: QuerySet[Lead], now: datetime) -> QuerySet[Lead]:
    return leads.filter(stage=Stage.SQL, stage_changed_at__lt=now - SQL_ACCEPT_TARGET).order_by("stage_changed_at")


# Each funnel step and what proves a lead reached it: its stage timestamp, kept even when the lead moved on to
# nurture, rejection, loss or disqualification later.
FUNNEL_STEPS = [
    (Stage.LEAD, ~Q(stage=Stage.NEW)),
    (Stage.MQL, Q(mql_at__isnull=False)),
    (Stage.SQL, Q(sql_at__isnull=False)),
    (Stage.ACCEPTED, Q(accepted_at__isnull=False)),
    (Stage.OPPORTUNITY, Q(opportunity_at__isnull=False)),
    (Stage.WON, Q(stage=Stage.WON)),
]


def funnel(leads: QuerySet[Lead]) -> list[dict]:
    """How many of these leads ever reached each step, as a share of those past 'new'; one query."""
    counts = leads.order_by().aggregate(**{step: Count("pk", filter=q) for step, q in FUNNEL_STEPS})
    top = counts[Stage.LEAD] or 1
    return [
        {"stage": step, "label": Stage.LABELS[step], "count": counts[step], "pct": round(100 * counts[step] / top)}
        for step, _ in FUNNEL_STEPS
    ]


def stage_counts(leads: QuerySet[Lead]) -> dict[str, int]:
    counts = dict(leads.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage: counts.get(stage, 0) for stage in Stage.ALL}


def team_rep_summary(*, manager) -> list[dict]:
    """Per rep in the manager's teams: leads by working stage."""
    User = get_user_model()
    reps = (
        User.objects.filter(pk__in=team_member_ids(manager=manager))
        .exclude(pk=manager.pk)  # a manager who also has a profile in their own team is not one of its reps
        .annotate(
            mql=Count("owned_leads", filter=Q(owned_leads__stage=Stage.MQL)),
            sql=Count("owned_leads", filter=Q(owned_leads__stage=Stage.SQL)),
            accepted=Count("owned_leads", filter=Q(owned_leads__stage=Stage.ACCEPTED)),
            opportunity=Count("owned_leads", filter=Q(owned_leads__stage=Stage.OPPORTUNITY)),
        )
        .select_related("profile__team")
        .order_by("profile__team__name", "username")
    )
    return list(reps)


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").annotate(n_members=Count("members")).order_by("name")


def active_users_by_role() -> dict[str, int]:
    User = get_user_model()
    return dict(
        User.objects.filter(is_active=True)
        .order_by()
        .values_list("groups__name")
        .annotate(n=Count("pk"))
        .exclude(groups__name=None)
    )


def managed_teams(*, manager) -> QuerySet[Team]:
    return Team.objects.filter(manager=manager).annotate(n_members=Count("members"))


def open_opportunities(*, user) -> QuerySet[Opportunity]:
    return (
        Opportunity.objects.filter(owner=user, stage__in=Opportunity.OPEN_STAGES)
        .select_related("account")
        .order_by("-amount")
    )


def audit_entry_list(*, user, action: str = "", object_type: str = "") -> QuerySet[AuditEntry]:
    if not has_role_perm(user, "leadops.view_audit_log"):
        return AuditEntry.objects.none()
    entries = AuditEntry.objects.select_related("actor")
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    return entries
