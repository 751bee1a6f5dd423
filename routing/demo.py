"""The demo world's routing set-up: one territory per demo team, specialists and generalists, named accounts.

Connected to leadops.demo.signals.demo_world_seeded, so a fresh `make run` routes its SQLs with reasons on record.
Everything goes through the same services an admin's set-up pages use.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from leadops import roles
from leadops.models import Account, RepProfile, Team
from routing.models import MemberRole, Territory
from routing.services import territory_save, unrouted_sqls_route

# By region of the demo's teams: which countries each works, its calendar and its priority.
DEMO_TERRITORIES = {
    "North America": {
        "priority": 1,
        "countries": ["US", "CA"],
        "calendar": {"time_zone": "America/New_York", "holidays_country": "US"},
    },
    "EMEA": {
        "priority": 2,
        "countries": ["GB", "DE", "FR", "NL", "ES", "SE", "IE", "CH"],
        "calendar": {"time_zone": "Europe/London", "holidays_country": "GB"},
    },
    "APAC": {
        "priority": 3,
        "countries": ["AU", "IN", "SG", "NZ", "PH"],
        "calendar": {"time_zone": "Asia/Singapore", "holidays_country": "SG"},
    },
}
WORKING_WEEK = {day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}
NAMED_ACCOUNTS_PER_TEAM = 4


def demo_routing_setup(sender=None, *, anchor, seed: int, **kwargs) -> int:
    """Territories for the demo teams, named accounts for a few enterprise accounts, then route unowned SQLs."""
    admin = get_user_model().objects.filter(groups__name=roles.ADMIN).order_by("pk").first()
    if admin is None:
        return 0
    rng = random.Random(f"{seed}:routing")
    for team in Team.objects.filter(name__in=DEMO_TERRITORIES).order_by("name"):
        spec = DEMO_TERRITORIES[team.name]
        reps = list(
            RepProfile.objects.filter(team=team, user__groups__name=roles.SDR)
            .select_related("user")
            .order_by("user__username")
        )
        # The first half of a team's SDRs take the strong-fit leads, the others the rest.
        members = [
            {
                "user_id": profile.user_id,
                "role": MemberRole.SPECIALIST if index < (len(reps) + 1) // 2 else MemberRole.GENERALIST,
                "weight": 1.0,
                "monthly_capacity": profile.monthly_capacity,
                "active": True,
            }
            for index, profile in enumerate(reps)
        ]
        territory_save(
            by=admin,
            territory=Territory.objects.filter(name=team.name).first(),  # a re-seed updates it in place
            data={
                "name": team.name,
                "priority": spec["priority"],
                "countries": spec["countries"],
                "calendar": {**spec["calendar"], "weekly_hours": WORKING_WEEK, "holidays": []},
                "team_id": team.pk,
            },
            members=members,
        )
        aes = list(RepProfile.objects.filter(team=team, user__groups__name=roles.AE).values_list("user_id", flat=True))
        accounts = list(
            Account.objects.filter(named_account_owner__isnull=True, segment="enterprise")
            .filter(Q(leads__owner__profile__team=team))
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)[:50]
        )
        for account_id in rng.sample(accounts, min(NAMED_ACCOUNTS_PER_TEAM, len(accounts))) if aes else []:
            Account.objects.filter(pk=account_id).update(named_account_owner_id=rng.choice(aes))
    now = timezone.make_aware(datetime.combine(anchor, time(12, 0)))
    return unrouted_sqls_route(since=now - timedelta(days=90), now=min(now, timezone.now()))


def demo_routing_reset(sender=None, *, team_names, usernames, **kwargs) -> None:
    """Before the demo teams and users go: their territories (members go with them) and set-up drafts."""
    from routing.models_setup import RoutingSetupDraft

    Territory.objects.filter(team__name__in=team_names).delete()
    RoutingSetupDraft.objects.filter(created_by__username__in=usernames).delete()
