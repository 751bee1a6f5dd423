"""Capacity planning: rep load = (monthly leads x routing factor) / reps, and each rep's load this month against
their capacity and the 50-100 benchmark band. The arithmetic is exact (Decimal), so (1,200 x 1.0) / 12 is 100."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q

from leadops.permissions import has_role_perm
from leadops.selectors import team_member_ids
from routing.models import RepMonthlyLoad, TerritoryMember

BENCHMARK_LOW = 50
BENCHMARK_HIGH = 100
ALL = "leadops.configure_territories"
TEAM = "leadops.view_team_leads"


def rep_load(*, monthly_leads: int, factor: Decimal, reps: int) -> Decimal:
    """Leads each rep should expect per month; refused for no reps."""
    if reps <= 0:
        raise ValueError("At least one rep is needed to share the leads.")
    load = (Decimal(monthly_leads) * Decimal(factor) / Decimal(reps)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return load.quantize(Decimal(1)) if load == load.to_integral_value() else load


def factor_text(factor) -> str:
    """1 -> '1.0', 1.20 -> '1.2', 1.25 -> '1.25'."""
    text = f"{Decimal(factor):.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def band(load) -> str:
    """'below', 'within' or 'above' the 50-100 benchmark."""
    if load < BENCHMARK_LOW:
        return "below"
    if load > BENCHMARK_HIGH:
        return "above"
    return "within"


@dataclass
class RepLoad:
    user_id: int
    name: str
    team: str
    assigned: int
    capacity: int
    active: bool
    out_of_office: bool
    in_territory: bool = True

    @property
    def band(self) -> str:
        return band(self.assigned)

    @property
    def used_pct(self) -> int:
        return round(100 * self.assigned / self.capacity) if self.capacity else 100

    @property
    def at_capacity(self) -> bool:
        return self.assigned >= self.capacity


def capacity_can_view(user) -> bool:
    return has_role_perm(user, ALL) or has_role_perm(user, TEAM)


def rep_loads(*, user, month: date, today: date) -> list[RepLoad]:
    """Every rep who is a territory member or got leads this month (a manager: their team's), busiest first.
    A rep's capacity is the largest of their memberships (what routing enforces), else their own default."""
    users = get_user_model().objects.filter(
        Q(territory_memberships__isnull=False) | Q(pk__in=RepMonthlyLoad.objects.filter(month=month).values("user_id"))
    )
    if not has_role_perm(user, ALL):
        users = users.filter(pk__in=team_member_ids(manager=user)) if has_role_perm(user, TEAM) else users.none()
    users = users.distinct().select_related("profile__team")
    loads = dict(RepMonthlyLoad.objects.filter(month=month).values_list("user_id", "assigned"))
    capacity: dict[int, int] = {}
    for user_id, cap in TerritoryMember.objects.values_list("user_id", "monthly_capacity"):
        capacity[user_id] = max(capacity.get(user_id, 0), cap)
    rows = []
    for person in users:
        profile = getattr(person, "profile", None)
        rows.append(
            RepLoad(
                user_id=person.pk,
                name=person.get_full_name() or person.get_username(),
                team=str(profile.team) if profile and profile.team else "",
                assigned=loads.get(person.pk, 0),
                capacity=capacity.get(person.pk, profile.monthly_capacity if profile else 80),
                active=person.is_active,
                out_of_office=bool(profile and profile.is_out_of_office(today)),
                in_territory=person.pk in capacity,
            )
        )
    return sorted(rows, key=lambda r: (-r.assigned, r.name))


def spread(rows: list[RepLoad]) -> dict | None:
    """The most and the least loaded rep among those routing gives leads to now (active territory members who are
    not out of office), and the gap between them."""
    working = [r for r in rows if r.active and r.in_territory and not r.out_of_office]
    if not working:
        return None
    most = max(working, key=lambda r: (r.assigned, r.name))
    least = min(working, key=lambda r: (r.assigned, r.name))
    return {"most": most, "least": least, "gap": most.assigned - least.assigned}
