"""Reads of the playbooks: templates and their versions, the objection library, next-step templates, and a lead's
discovery calls, always scoped to the person asking (calls only on leads they may see)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from leadops.models import Lead
from leadops.permissions import has_any_role_perm, role_perms
from leadops.selectors import lead_list
from playbooks import rules
from playbooks.models import (
    Criterion,
    CriterionAnswer,
    DiscoveryCall,
    NextStepTemplate,
    Objection,
    ObjectionRaised,
    QualificationTemplate,
)


def can_read(user) -> bool:
    return has_any_role_perm(user, rules.READ_PERMS)


def can_edit(user) -> bool:
    return has_any_role_perm(user, rules.EDIT_PERMS)


def _criteria():
    return Prefetch("criteria", queryset=Criterion.objects.order_by("order", "pk"))


def template_list(*, user) -> QuerySet[QualificationTemplate]:
    """The active version of each template, with its criteria."""
    if not can_read(user):
        return QualificationTemplate.objects.none()
    return QualificationTemplate.objects.filter(active=True).prefetch_related(_criteria()).order_by("name", "pk")


def template_get(*, user, template_id: int) -> QualificationTemplate:
    """Any version (old calls link to theirs), with its criteria."""
    if not can_read(user):
        raise QualificationTemplate.DoesNotExist
    return QualificationTemplate.objects.prefetch_related(_criteria()).select_related("created_by").get(pk=template_id)


def template_versions(*, key: str) -> QuerySet[QualificationTemplate]:
    return QualificationTemplate.objects.filter(key=key).select_related("created_by").order_by("-version")


def objection_list() -> QuerySet[Objection]:
    return Objection.objects.order_by("order", "pk")


def next_step_template_list() -> QuerySet[NextStepTemplate]:
    return NextStepTemplate.objects.order_by("order", "pk")


def call_actor(user) -> rules.CallActor:
    return rules.CallActor(user_id=user.pk, perms=role_perms(user))


def call_lead(lead: Lead) -> rules.CallLead:
    return rules.CallLead(stage=lead.stage, owner_id=lead.owner_id, sal=lead.sal_at is not None)


def call_refusal(*, user, lead: Lead) -> str | None:
    return rules.call_refusal(call_actor(user), call_lead(lead))


def _call_details(calls: QuerySet[DiscoveryCall]) -> QuerySet[DiscoveryCall]:
    return calls.select_related("ae", "template", "next_step_owner", "opportunity").prefetch_related(
        Prefetch("answers", queryset=CriterionAnswer.objects.select_related("criterion").order_by("criterion__order")),
        Prefetch("objections", queryset=ObjectionRaised.objects.select_related("objection")),
    )


def call_list_for_lead(*, user, lead_id: int) -> QuerySet[DiscoveryCall]:
    """A lead's discovery calls, newest first; Lead.DoesNotExist when the lead is not visible to the person."""
    if not can_read(user):
        raise Lead.DoesNotExist
    lead_id = lead_list(user=user).values_list("pk", flat=True).get(pk=lead_id)
    return _call_details(DiscoveryCall.objects.filter(lead_id=lead_id)).order_by("-occurred_at", "-pk")


def call_get(*, user, call_id: int) -> DiscoveryCall:
    if not can_read(user):
        raise DiscoveryCall.DoesNotExist
    visible = lead_list(user=user).values("pk")
    return _call_details(DiscoveryCall.objects.filter(lead__in=visible)).select_related("lead__account").get(pk=call_id)


def last_call(*, lead: Lead) -> DiscoveryCall | None:
    return (
        DiscoveryCall.objects.filter(lead=lead).select_related("template", "ae").order_by("-occurred_at", "-pk").first()
    )


def next_step_owners(*, user) -> QuerySet:
    """Who may own a call's next step: the AE and the active people of their team."""
    User = get_user_model()
    team_id = User.objects.filter(pk=user.pk).values_list("profile__team", flat=True).first()
    people = Q(pk=user.pk)
    if team_id:
        people |= Q(profile__team_id=team_id, is_active=True)
    return User.objects.filter(people).order_by("first_name", "last_name", "username").distinct()
