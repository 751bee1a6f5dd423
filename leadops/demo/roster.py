"""The people of the demo world: five printed logins plus the rest of the three sales teams.

Usernames are fixed (not drawn from the seed) so that `--reset` can always find the demo users again, and so that
the logins printed by `make run` never change.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadops import roles
from leadops.demo.catalog import TERRITORIES

DEMO_PASSWORD = "leadops-demo"
DEMO_EMAIL_DOMAIN = "leadops.example"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    territory_key: str | None = None
    time_zone: str = "UTC"
    # Days relative to the anchor; None means in the office.
    out_of_office_days: tuple[int, int] | None = None
    # The printed logins get a larger share of their team's leads, and a much larger share of the recent ones, so
    # that their home pages always have work in them (see journey.RECENT_WORK_DAYS).
    workload_weight: float = 1.0
    recent_workload_weight: float = 1.0
    is_printed_login: bool = False

    @property
    def is_rep(self) -> bool:
        return self.role in (roles.SDR, roles.AE)


# Team sizes: North America is the largest territory and the one the printed logins work in.
_TEAM_SIZES = {"na": (4, 3), "emea": (3, 3), "apac": (2, 2)}
# Reps who are away around the anchor date, so routing and capacity pages have someone to skip.
_OUT_OF_OFFICE = {"sdr.emea.3": (-4, 10), "ae.apac.2": (-1, 6)}
# A few reps work from another office than their team's default time zone.
_TIME_ZONE_OVERRIDES = {"sdr.emea.2": "Europe/Berlin", "ae.emea.3": "Europe/Berlin"}
PRINTED_LOGINS = ("sdr", "ae", "marketing", "manager", "admin")


def _manager_username(territory_key: str) -> str:
    return "manager" if territory_key == "na" else f"manager.{territory_key}"


def _rep_username(role: str, territory_key: str, number: int) -> str:
    prefix = "sdr" if role == roles.SDR else "ae"
    if territory_key == "na" and number == 1:
        return prefix
    return f"{prefix}.{territory_key}.{number}"


def demo_roster() -> list[DemoUser]:
    """Everyone, printed logins first in the order they are printed."""
    users = [
        DemoUser("marketing", roles.MARKETING, is_printed_login=True),
        DemoUser("admin", roles.ADMIN, is_printed_login=True),
    ]
    for territory in TERRITORIES:
        manager = _manager_username(territory.key)
        users.append(
            DemoUser(
                manager,
                roles.MANAGER,
                territory_key=territory.key,
                time_zone=territory.time_zone,
                is_printed_login=manager in PRINTED_LOGINS,
            )
        )
        sdr_count, ae_count = _TEAM_SIZES[territory.key]
        for role, count in ((roles.SDR, sdr_count), (roles.AE, ae_count)):
            for number in range(1, count + 1):
                username = _rep_username(role, territory.key, number)
                printed = username in PRINTED_LOGINS
                users.append(
                    DemoUser(
                        username,
                        role,
                        territory_key=territory.key,
                        time_zone=_TIME_ZONE_OVERRIDES.get(username, territory.time_zone),
                        out_of_office_days=_OUT_OF_OFFICE.get(username),
                        workload_weight=1.5 if printed else 1.0,
                        recent_workload_weight=8.0 if printed else 1.0,
                        is_printed_login=printed,
                    )
                )
    order = {name: index for index, name in enumerate(PRINTED_LOGINS)}
    return sorted(users, key=lambda user: (order.get(user.username, len(order)), users.index(user)))


def manager_username_for(territory_key: str) -> str:
    return _manager_username(territory_key)
