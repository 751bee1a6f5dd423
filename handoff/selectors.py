"""Reads for the handoff: who may do what on a lead (facts for handoff.rules), which AE an accepted lead goes to."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from handoff import rules
from handoff.models import RejectionReason
from leadops import roles
from leadops.models import Lead, RepProfile
from leadops.permissions import role_perms
from leadops.rules import Stage
from leadops.selectors import team_member_ids


def lead_territory(lead_id: int):
    """The territory whose routing last placed the lead (a queue or a rep), or None."""
    from routing.models import RoutingDecision

    decision = (
        RoutingDecision.objects.filter(lead_id=lead_id, territory__isnull=False)
        .select_related("territory__team")
        .order_by("-decided_at", "-pk")
        .first()
    )
    return decision.territory if decision else None


def actor_facts(*, user, lead: Lead, today: date | None = None, territory=None) -> rules.ActorFacts:
    """What handoff.rules needs to know about the person: their role permissions, whether they manage the lead's
    owner, whether they belong to the territory whose queue holds an unowned lead, and room under their capacity."""
    from routing.models import RepMonthlyLoad, TerritoryMember

    perms = role_perms(user)
    manages_owner = False
    if lead.owner_id is not None and rules.PERM_TEAM in perms:
        manages_owner = team_member_ids(manager=user).filter(pk=lead.owner_id).exists()
    in_territory, under_capacity = False, True
    if lead.owner_id is None and lead.stage in rules.CLAIMABLE_STAGES and rules.PERM_WORK in perms:
        territory = territory if territory is not None else lead_territory(lead.pk)
        member = (
            TerritoryMember.objects.filter(territory=territory, user=user, active=True).first()
            if territory is not None
            else None
        )
        in_territory = member is not None
        if member is not None:
            today = today or date.today()
            load = (
                RepMonthlyLoad.objects.filter(user=user, month=today.replace(day=1))
                .values_list("assigned", flat=True)
                .first()
            )
            under_capacity = (load or 0) < member.monthly_capacity
    return rules.ActorFacts(
        user_id=user.pk,
        perms=perms,
        manages_owner=manages_owner,
        in_lead_territory=in_territory,
        under_capacity=under_capacity,
    )


def lead_facts(lead: Lead) -> rules.LeadFacts:
    return rules.LeadFacts(stage=lead.stage, owner_id=lead.owner_id, sdr_id=lead.sdr_id, sal=lead.sal_at is not None)


def lead_actions(*, user, lead: Lead) -> list[str]:
    """The actions this person may take on this lead now (what the lead page shows)."""
    return rules.allowed_actions(actor_facts(user=user, lead=lead), lead_facts(lead))


def rejection_reasons():
    return RejectionReason.objects.filter(active=True).order_by("order", "label")


def _ae_facts(user, open_handoffs: int, today: date) -> rules.AeFacts:
    return rules.AeFacts(
        user_id=user.pk,
        name=user.get_full_name() or user.get_username(),
        open_handoffs=open_handoffs,
        active=user.is_active,
        out_of_office=(profile := getattr(user, "profile", None)) is not None and profile.is_out_of_office(today),
    )


def handoff_candidates(*, lead: Lead, sdr, today: date):
    """The facts ae_choose decides on: the account's named owner when that person is an AE, and the AEs of the
    team the lead belongs to (its territory's team, else the SDR's team), each with the leads waiting for them."""
    User = get_user_model()
    territory = lead_territory(lead.pk)
    team = territory.team if territory is not None else getattr(getattr(sdr, "profile", None), "team", None)
    waiting = Count("owned_leads", filter=Q(owned_leads__stage=Stage.ACCEPTED, owned_leads__sal_at__isnull=True))
    named = None
    named_id = lead.account.named_account_owner_id if lead.account_id else None
    if named_id:
        owner = (
            User.objects.filter(pk=named_id, groups__name=roles.AE)
            .select_related("profile")
            .annotate(waiting=waiting)
            .first()
        )
        named = _ae_facts(owner, owner.waiting, today) if owner else None
    team_aes = []
    if team is not None:
        aes = (
            User.objects.filter(profile__team=team, groups__name=roles.AE)
            .select_related("profile")
            .annotate(waiting=waiting)
            .order_by("pk")
        )
        team_aes = [_ae_facts(ae, ae.waiting, today) for ae in aes]
    return named, team_aes, team, territory


def team_manager_of(user):
    profile = RepProfile.objects.filter(user=user).select_related("manager", "team__manager").first()
    if profile is None:
        return None
    return profile.manager or (profile.team.manager if profile.team else None)
