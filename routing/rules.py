"""Which rep gets a lead, and why: the pure routing decision and the validation of a territory's set-up.

Plain data in, a Decision with its path in words out; no ORM, no settings, no clock. Steps, in DESIGN.md's order:

1. Named account: the account has an owner and the score is above 70 -> the owner (out of office or inactive: the
   normal path, with that reason).
2. Intent recency: no intent or buying signal in the last 30 days -> the nurture queue.
3. Territory: the first active territory, by priority (then name), whose criteria all match; none -> the default
   overflow queue.
4. ICP strength from the fit pillar: fit >= 70 is strong -> the territory's specialists (SDRs and AEs when it has no
   specialist); weaker -> its generalists, or the generalist queue when it has none.
5. Weighted round robin among the active members of that group who are not out of office and are under capacity:
   the rep furthest below their weighted fair share of the group's leads this month once this lead is counted,
   where a rep's weight counts once per day they were available this month; ties go to the lowest user id. A hot
   lead prefers the reps whose working hours are on now.
6. Nobody left (all at capacity, out of office or inactive) -> the territory's overflow queue (its team's manager).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from holidays import registry as holiday_registry

NAMED_ACCOUNT_MIN_SCORE = 70  # strictly above
INTENT_MAX_AGE = timedelta(days=30)
ICP_STRONG_MIN_FIT = 70
HOT = "hot"

# Events that count as a buying signal for intent recency (besides third-party intent signals).
BUYING_SIGNAL_KINDS = (
    "demo_request",
    "pricing_page_visit",
    "trial_started",
    "rfp_submitted",
    "competitor_comparison_download",
    "form_submitted",
)

ROLES = ("sdr", "ae", "specialist", "generalist")
SEGMENTS = ("smb", "mid_market", "enterprise")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

QUEUE_NURTURE = "nurture"
QUEUE_OVERFLOW = "overflow"
QUEUE_GENERALIST = "generalist"


# --- facts -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    lead_id: int
    score: int | None
    fit: int | None
    temperature: str = ""
    segment: str = ""
    country: str = ""  # a name ("Germany") or an ISO code ("DE")
    region: str = ""
    industry: str = ""
    employees: int | None = None
    revenue: Decimal | None = None
    last_signal_at: datetime | None = None  # the latest intent signal or buying-signal event
    named_owner_id: int | None = None


@dataclass(frozen=True)
class RepFacts:
    user_id: int
    name: str
    role: str = "specialist"
    weight: Decimal = Decimal(1)
    active: bool = True
    out_of_office: bool = False  # today
    assigned: int = 0  # this month, every territory
    capacity: int = 80
    available_days: int = 1  # days of this month so far the rep was a member and not out of office
    working_now: bool = True


@dataclass(frozen=True)
class TerritoryFacts:
    territory_id: int
    name: str
    priority: int
    members: tuple[RepFacts, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    employees_min: int | None = None
    employees_max: int | None = None
    revenue_min: Decimal | None = None
    revenue_max: Decimal | None = None
    overflow_owner_id: int | None = None  # the team's manager
    overflow_owner_name: str = ""
    active: bool = True
    setup_version: int = 1


@dataclass(frozen=True)
class NamedOwnerFacts:
    user_id: int
    name: str
    active: bool = True
    out_of_office: bool = False


@dataclass(frozen=True)
class Decision:
    assignee_id: int | None
    queue: str  # '' when a rep is assigned
    path: tuple[str, ...]
    reason: str
    territory_id: int | None = None
    queue_owner_id: int | None = None
    setup_version: int = 0

    @property
    def path_text(self) -> str:
        return " -> ".join(self.path)


def _days_ago(days: int) -> str:
    return "today" if days == 0 else ("1 day ago" if days == 1 else f"{days} days ago")


# --- countries -----------------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


_COUNTRY_CODES: dict[str, str] = {}
for _module, _entry in holiday_registry.COUNTRIES.items():
    _COUNTRY_CODES[_norm(_module)] = _entry[1]
    _COUNTRY_CODES[_norm(_entry[0])] = _entry[1]
_COUNTRY_CODES.update({"usa": "US", "uk": "GB", "greatbritain": "GB", "england": "GB"})
KNOWN_COUNTRY_CODES = frozenset(entry[1] for entry in holiday_registry.COUNTRIES.values())


@functools.lru_cache(maxsize=4096)
def country_code(value: str) -> str:
    """'Germany' / 'germany' / 'DE' -> 'DE'; '' when unknown."""
    value = (value or "").strip()
    if len(value) == 2 and value.upper() in KNOWN_COUNTRY_CODES:
        return value.upper()
    return _COUNTRY_CODES.get(_norm(value), "")


# --- fair share ------------------------------------------------------------------------------------------------------


def fair_shares(reps, *, total: int) -> dict[int, Fraction]:
    """Each rep's weighted fair share of `total` leads: weight x days available, over the group's sum."""
    weights = {rep.user_id: Fraction(rep.weight) * rep.available_days for rep in reps}
    whole = sum(weights.values())
    if whole == 0:
        return {user_id: Fraction(0) for user_id in weights}
    return {user_id: Fraction(total) * weight / whole for user_id, weight in weights.items()}


def _fmt(value: Fraction) -> str:
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def rep_choose(group, *, hot: bool) -> tuple[RepFacts | None, list[str]]:
    """The weighted round robin over one group of territory members; (None, reasons) when nobody can take it."""
    pool = [rep for rep in group if rep.active]
    if not pool:
        return None, ["no active member"]
    available = [rep for rep in pool if not rep.out_of_office]
    if not available:
        return None, ["every member out of office"]
    eligible = [rep for rep in available if rep.assigned < rep.capacity]
    if not eligible:
        return None, ["every rep at capacity"]
    notes = []
    if hot:
        on_now = [rep for rep in eligible if rep.working_now]
        if on_now and len(on_now) < len(eligible):
            notes.append("hot lead: reps working now preferred")
            eligible = on_now
    # The group's leads this month once this one is counted; fair shares are over the whole active group, so a
    # rep out of office today still holds the share of the days they were here.
    total = sum(rep.assigned for rep in pool) + 1
    # share - assigned = (total x w / W) - assigned; compared as total x w - assigned x W in whole numbers (weights
    # have two decimals), which is exact and much cheaper than fractions on every lead.
    weights = {rep.user_id: int(rep.weight * 100) * rep.available_days for rep in pool}
    whole = sum(weights.values())
    best = max(eligible, key=lambda rep: (total * weights[rep.user_id] - rep.assigned * whole, -rep.user_id))
    share = Fraction(total * weights[best.user_id], whole) if whole else Fraction(0)
    deficit = share - best.assigned
    notes.append(
        f"{best.name} ({best.assigned}/{best.capacity} this month, {_fmt(deficit)} below fair share of {_fmt(share)})"
    )
    return best, notes


# --- matching -------------------------------------------------------------------------------------------------------


def _in(value: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or value.strip().lower() in {item.strip().lower() for item in allowed}


def territory_matches(territory: TerritoryFacts, lead: LeadFacts) -> bool:
    if not territory.active:
        return False
    if territory.countries and country_code(lead.country) not in {c.upper() for c in territory.countries}:
        return False
    if not (_in(lead.region, territory.regions) and _in(lead.industry, territory.industries)):
        return False
    if not _in(lead.segment, territory.segments):
        return False
    for value, low, high in (
        (lead.employees, territory.employees_min, territory.employees_max),
        (lead.revenue, territory.revenue_min, territory.revenue_max),
    ):
        if low is None and high is None:
            continue
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


def icp_strong(lead: LeadFacts) -> bool:
    return (lead.fit or 0) >= ICP_STRONG_MIN_FIT


# --- the decision ----------------------------------------------------------------------------------------------------


def route(
    *,
    lead: LeadFacts,
    territories,
    now: datetime,
    named_owner: NamedOwnerFacts | None = None,
    default_overflow_owner_id: int | None = None,
) -> Decision:
    path: list[str] = []

    # 1. named account
    if lead.named_owner_id is None or named_owner is None:
        path.append("named account? no")
    elif (lead.score or 0) <= NAMED_ACCOUNT_MIN_SCORE:
        path.append(f"named account of {named_owner.name}, score {lead.score or 0} not above {NAMED_ACCOUNT_MIN_SCORE}")
    elif not named_owner.active:
        path.append(f"named account of {named_owner.name}, who is inactive")
    elif named_owner.out_of_office:
        path.append(f"named account of {named_owner.name}, who is out of office")
    else:
        path.append(f"named account: {named_owner.name} owns it (score {lead.score} above {NAMED_ACCOUNT_MIN_SCORE})")
        return Decision(named_owner.user_id, "", tuple(path), f"Named account owner {named_owner.name}")

    # 2. intent recency
    if lead.last_signal_at is None:
        path.append("no intent or buying signal on record -> nurture queue")
        return Decision(None, QUEUE_NURTURE, tuple(path), "No intent or buying signal on record")
    age = now - lead.last_signal_at
    if age > INTENT_MAX_AGE:
        path.append(f"last intent or buying signal {age.days} days ago (over 30) -> nurture queue")
        return Decision(None, QUEUE_NURTURE, tuple(path), f"Last intent or buying signal {age.days} days ago")
    path.append(f"intent {_days_ago(age.days)}")

    # 3. territory by priority
    ordered = sorted(territories, key=lambda t: (t.priority, t.name))
    territory = next((t for t in ordered if territory_matches(t, lead)), None)
    if territory is None:
        path.append("no territory matches -> default overflow queue")
        return Decision(
            None,
            QUEUE_OVERFLOW,
            tuple(path),
            "No territory matches this lead",
            queue_owner_id=default_overflow_owner_id,
        )
    path.append(f"territory {territory.name} (priority {territory.priority})")

    def overflow(why: str) -> Decision:
        owner = territory.overflow_owner_name or "no manager"
        path.append(f"{why} -> overflow queue ({owner})")
        return Decision(
            None,
            QUEUE_OVERFLOW,
            tuple(path),
            f"{territory.name}: {why}",
            territory_id=territory.territory_id,
            queue_owner_id=territory.overflow_owner_id,
            setup_version=territory.setup_version,
        )

    if not any(rep.active for rep in territory.members):
        return overflow("no active member")

    # 4. ICP strength
    if icp_strong(lead):
        group = [rep for rep in territory.members if rep.role == "specialist"]
        label = "specialists"
        if not any(rep.active for rep in group):
            group = [rep for rep in territory.members if rep.role in ("sdr", "ae")]
            label = "reps (no specialist)"
        path.append(f"ICP strong (fit {lead.fit or 0}) -> {label}")
    else:
        group = [rep for rep in territory.members if rep.role == "generalist"]
        if not any(rep.active for rep in group):
            path.append(f"ICP weak (fit {lead.fit or 0}) -> generalist queue")
            return Decision(
                None,
                QUEUE_GENERALIST,
                tuple(path),
                f"{territory.name}: weak ICP fit and no generalist rep",
                territory_id=territory.territory_id,
                queue_owner_id=territory.overflow_owner_id,
                setup_version=territory.setup_version,
            )
        path.append(f"ICP weak (fit {lead.fit or 0}) -> generalists")

    # 5. weighted round robin, 6. overflow
    rep, notes = rep_choose(group, hot=lead.temperature == HOT)
    if rep is None:
        return overflow(notes[0])
    path.extend(notes)
    return Decision(
        rep.user_id,
        "",
        tuple(path),
        notes[-1],
        territory_id=territory.territory_id,
        setup_version=territory.setup_version,
    )


# --- availability facts ------------------------------------------------------------------------------------------


def out_of_office_on(day: date, start: date | None, until: date | None) -> bool:
    return start is not None and start <= day and (until is None or day <= until)


def available_days(*, today: date, member_since: date, ooo_from: date | None, ooo_until: date | None) -> int:
    """Days of today's month, up to and including today, the rep was a member and not out of office (at least 1,
    so that a rep who joins today starts level with a share of one day)."""
    first = max(today.replace(day=1), member_since)
    days = 0
    day = first
    while day <= today:
        if not out_of_office_on(day, ooo_from, ooo_until):
            days += 1
        day += timedelta(days=1)
    return max(days, 1)


def working_now(calendar: dict, now: datetime) -> bool:
    """Whether `now` falls in the calendar's working hours (its time zone, weekday, holidays); True without hours.

    Asked of sla.calendars.WorkCalendar, the one reading of a calendar (breaks, 24:00, holidays, days off).
    """
    if not (calendar or {}).get("weekly_hours"):
        return True
    return _work_calendar(json.dumps(calendar, sort_keys=True)).is_working(now)


@functools.lru_cache(maxsize=64)
def _work_calendar(spec_json: str):
    # Routing asks this for every hot lead; a territory's calendar is parsed once, not once per question.
    from sla.calendars import WorkCalendar

    return WorkCalendar.from_spec(json.loads(spec_json))


# --- validation --------------------------------------------------------------------------------------------------


@dataclass
class Problems:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def _string_list(problems: Problems, name: str, value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        problems.add(name, "must be a list of non-empty texts.")
        return []
    return value


def calendar_problems(calendar, problems: Problems, name: str = "calendar") -> None:
    """A territory's calendar is checked by the one calendar validation there is (sla.calendars), under `name`."""
    from sla.calendars import calendar_spec_problems  # pure, like this module; the SLA clocks read the same spec

    if calendar in (None, {}):
        return
    for key, messages in calendar_spec_problems(calendar).items():
        for message in messages:
            problems.add(name if key == "calendar" else f"{name}.{key}", message)


# The largest values the territory columns hold (PositiveIntegerField, DecimalField(16, 2), PositiveSmallIntegerField):
# anything bigger is refused by field instead of failing in the database.
MAX_WHOLE_NUMBER = 2_147_483_647
MAX_REVENUE = Decimal("99999999999999.99")
MAX_CAPACITY = 32_767


def capacity_problem(capacity) -> str | None:
    """What is wrong with a monthly capacity (a rep's or a membership's), or None."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        return "A capacity is a whole number, zero or more."
    if capacity > MAX_CAPACITY:
        return f"A capacity must not be above {MAX_CAPACITY}."
    return None


def territory_problems(spec: dict) -> Problems:
    """What is wrong with a territory's criteria and calendar, by field."""
    problems = Problems()
    if not str(spec.get("name") or "").strip():
        problems.add("name", "A territory needs a name.")
    priority = spec.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
        problems.add("priority", "must be a whole number, 1 or more.")
    elif priority > MAX_WHOLE_NUMBER:
        problems.add("priority", f"must not be above {MAX_WHOLE_NUMBER}.")
    for code in _string_list(problems, "countries", spec.get("countries", [])):
        if code.upper() != code or code not in KNOWN_COUNTRY_CODES:
            problems.add("countries", f"'{code}' is not an ISO country code such as DE or US.")
    _string_list(problems, "regions", spec.get("regions", []))
    _string_list(problems, "industries", spec.get("industries", []))
    for segment in _string_list(problems, "segments", spec.get("segments", [])):
        if segment not in SEGMENTS:
            problems.add("segments", f"'{segment}' is not one of {', '.join(SEGMENTS)}.")
    for low_name, high_name, most in (
        ("employees_min", "employees_max", MAX_WHOLE_NUMBER),
        ("revenue_min", "revenue_max", MAX_REVENUE),
    ):
        low, high = spec.get(low_name), spec.get(high_name)
        for key, value in ((low_name, low), (high_name, high)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | Decimal)):
                problems.add(key, "must be a number or empty.")
            elif value is not None and value < 0:
                problems.add(key, "must not be negative.")
            elif value is not None and value > most:
                problems.add(key, f"must not be above {most}.")
        clean = low_name not in problems.by_field and high_name not in problems.by_field
        if clean and low is not None and high is not None and high < low:
            problems.add(high_name, f"must not be below {low_name.replace('_', ' ')}.")
    calendar_problems(spec.get("calendar") or {}, problems)
    return problems


def member_problems(members) -> Problems:
    """Members as dicts with user_id, role, weight, monthly_capacity; keys like members.2.weight."""
    problems = Problems()
    seen: dict = {}
    for index, member in enumerate(members):
        key = f"members.{index}"
        if member.get("role") not in ROLES:
            problems.add(f"{key}.role", f"must be one of {', '.join(ROLES)}.")
        weight = member.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float | Decimal) or weight <= 0:
            problems.add(f"{key}.weight", "A weight must be above zero.")
        capacity = member.get("monthly_capacity", 80)
        if problem := capacity_problem(capacity):
            problems.add(f"{key}.monthly_capacity", problem)
        user_id = member.get("user_id")
        if user_id in seen:
            problems.add(f"{key}.user_id", f"This person is listed twice (also member {seen[user_id]}).")
        seen.setdefault(user_id, index)
    return problems
