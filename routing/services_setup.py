"""Writes of the routing set-up pages: the draft set-up (territories, members, priority order, named accounts), its
publication, and a rep's capacity and availability.

An admin's edits go into one open RoutingSetupDraft (a JSON document validated here with the territory and member
checks of routing.rules, the same ones routing.services.territory_save applies), so the published territories keep
routing while the admin works. Publishing writes every territory through territory_save in one transaction, bumps
the set-up version the routing decisions record, and writes an audit entry; a problem anywhere publishes nothing.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from leadops import roles
from leadops.models import Account, RepProfile, Team
from leadops.permissions import has_role_perm
from leadops.services import as_actor, audit_log
from routing import rules, services
from routing.models import (
    RoutingSetupDraft,
    SetupDraftStatus,
    Territory,
    TerritoryMember,
    default_monthly_capacity,
)

CONFIGURE = services.CONFIGURE
CRITERIA = ("countries", "regions", "industries", "segments")
RANGES = ("employees_min", "employees_max", "revenue_min", "revenue_max")


class SetupError(Exception):
    """An action on the set-up that cannot be done as asked (nothing to publish, no such territory)."""


def _require(by) -> None:
    if not has_role_perm(by, CONFIGURE):
        raise PermissionDenied("Your role does not allow you to configure territories.")


# --- the published set-up and the draft, as documents ----------------------------------------------------------


def published_version() -> int:
    return Territory.objects.aggregate(version=Max("setup_version"))["version"] or 0


def _text(value) -> str | None:
    return None if value is None else str(value)


def territory_document(territory: Territory, members) -> dict:
    return {
        "key": f"t{territory.pk}",
        "id": territory.pk,
        "name": territory.name,
        "priority": territory.priority,
        **{name: list(getattr(territory, name)) for name in CRITERIA},
        "employees_min": territory.employees_min,
        "employees_max": territory.employees_max,
        "revenue_min": _text(territory.revenue_min),
        "revenue_max": _text(territory.revenue_max),
        "team_id": territory.team_id,
        "calendar": copy.deepcopy(territory.calendar or {}),
        "active": territory.active,
        "members": [
            {
                "user_id": m.user_id,
                "role": m.role,
                "weight": str(Decimal(m.weight).normalize()),
                "monthly_capacity": m.monthly_capacity,
                "active": m.active,
            }
            for m in members
        ],
    }


def published_spec() -> dict:
    territories = list(Territory.objects.order_by("priority", "name"))
    members: dict[int, list] = {}
    for member in TerritoryMember.objects.order_by("territory_id", "user_id"):
        members.setdefault(member.territory_id, []).append(member)
    return {
        "territories": [territory_document(t, members.get(t.pk, [])) for t in territories],
        "named_accounts": {},
    }


def draft_open() -> RoutingSetupDraft | None:
    return RoutingSetupDraft.objects.filter(status=SetupDraftStatus.OPEN).select_related("created_by").first()


def draft_is_stale(draft: RoutingSetupDraft) -> bool:
    """Whether the published territories changed after the draft copied them (e.g. through the API); publishing
    the draft would overwrite those changes."""
    return Territory.objects.filter(updated_at__gt=draft.created_at).exists() or (
        published_version() > draft.based_on_version
    )


def setup_current() -> tuple[dict, RoutingSetupDraft | None]:
    """What the set-up pages show: the open draft, or the published set-up when nobody is editing."""
    draft = draft_open()
    return (draft.spec, draft) if draft else (published_spec(), None)


def setup_draft_start(*, by) -> RoutingSetupDraft:
    """The open draft, copied from the published set-up the first time someone edits."""
    _require(by)
    draft = draft_open()
    if draft is not None:
        return draft
    try:
        with transaction.atomic():
            return RoutingSetupDraft.objects.create(
                spec=published_spec(), based_on_version=published_version(), created_by=by, updated_by=by
            )
    except IntegrityError:  # someone else opened one a moment ago
        return draft_open()


def territory_find(spec: dict, key: str) -> dict:
    for territory in spec["territories"]:
        if territory["key"] == key:
            return territory
    raise SetupError(f"No territory '{key}' in this set-up.")


def ordered(spec: dict) -> list[dict]:
    return sorted(spec["territories"], key=lambda t: (t["priority"], t["name"].lower()))


# --- validation (the rules' checks, plus what needs the database) ----------------------------------------------


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value  # rules.territory_problems names it


def for_rules(territory: dict) -> dict:
    """The draft's JSON territory with the numbers rules.territory_problems and member_problems expect."""
    spec = dict(territory)
    spec["revenue_min"] = _decimal(territory.get("revenue_min"))
    spec["revenue_max"] = _decimal(territory.get("revenue_max"))
    spec["members"] = [{**m, "weight": _decimal(m.get("weight"))} for m in territory.get("members", [])]
    return spec


def _known(territories: list[dict]) -> tuple[set, set]:
    """The team ids and user ids these territories name that exist (two queries for any number of territories)."""
    team_ids = [t.get("team_id") for t in territories if isinstance(t.get("team_id"), int)]
    user_ids = [
        m.get("user_id") for t in territories for m in t.get("members", []) if isinstance(m.get("user_id"), int)
    ]
    return (
        set(Team.objects.filter(pk__in=team_ids).values_list("pk", flat=True)),
        set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True)),
    )


def territory_spec_problems(territory: dict, *, others: list[dict], known=None) -> dict[str, list[str]]:
    spec = for_rules(territory)
    problems = rules.territory_problems(spec)
    problems.by_field.update(rules.member_problems(spec["members"]).by_field)
    teams, users = known if known is not None else _known([territory])
    if spec.get("team_id") not in teams:
        problems.add("team_id", "Choose the team that works this territory.")
    name = str(spec.get("name") or "").strip().lower()
    if name and any(other["name"].strip().lower() == name for other in others):
        problems.add("name", f"Another territory in this set-up is already named {spec['name']}.")
    for index, member in enumerate(spec["members"]):
        if member.get("user_id") not in users:
            problems.add(f"members.{index}.user_id", "No such person.")
    return problems.by_field


def _raise(by_field: dict[str, list[str]]) -> None:
    if by_field:
        raise ValidationError({name: list(messages) for name, messages in by_field.items()})


# --- editing the draft -----------------------------------------------------------------------------------------


def _save(draft: RoutingSetupDraft, *, by) -> RoutingSetupDraft:
    draft.updated_by = by
    draft.save(update_fields=["spec", "updated_by", "updated_at"])
    return draft


def _locked_draft(*, by) -> RoutingSetupDraft:
    draft = setup_draft_start(by=by)
    return RoutingSetupDraft.objects.select_for_update().get(pk=draft.pk, status=SetupDraftStatus.OPEN)


def setup_territory_save(*, by, data: dict, members: list[dict], key: str | None = None) -> dict:
    """Add a territory to the draft (key None) or change one; refused with every problem by field, draft unchanged.

    data: name, priority (None: after the last), the criteria lists, the ranges, team_id, calendar, active;
    members: dicts with user_id, role, weight, monthly_capacity, active.
    """
    _require(by)
    with transaction.atomic():
        draft = _locked_draft(by=by)
        spec = draft.spec
        current = territory_find(spec, key) if key else None
        others = [t for t in spec["territories"] if t is not current]
        territory = {
            "key": current["key"] if current else _new_key(spec),
            "id": current["id"] if current else None,
            "name": str(data.get("name") or "").strip(),
            "priority": data["priority"]
            if data.get("priority") is not None
            else (current["priority"] if current else 1 + max((t["priority"] for t in others), default=0)),
            **{name: list(data.get(name) or []) for name in CRITERIA},
            "employees_min": data.get("employees_min"),
            "employees_max": data.get("employees_max"),
            "revenue_min": _text(data.get("revenue_min")),
            "revenue_max": _text(data.get("revenue_max")),
            "team_id": data.get("team_id"),
            "calendar": data.get("calendar") or {},
            "active": bool(data.get("active", True)),
            "members": [
                {
                    "user_id": m.get("user_id"),
                    "role": m.get("role"),
                    "weight": _text(m.get("weight", 1)),
                    "monthly_capacity": m.get("monthly_capacity"),
                    "active": bool(m.get("active", True)),
                }
                for m in members
            ],
        }
        _raise(territory_spec_problems(territory, others=others))
        if current:
            spec["territories"][spec["territories"].index(current)] = territory
        else:
            spec["territories"].append(territory)
        _save(draft, by=by)
    return territory


def _new_key(spec: dict) -> str:
    taken = {t["key"] for t in spec["territories"]}
    number = 1
    while f"new{number}" in taken:
        number += 1
    return f"new{number}"


def setup_territory_remove(*, by, key: str) -> None:
    _require(by)
    with transaction.atomic():
        draft = _locked_draft(by=by)
        territory = territory_find(draft.spec, key)
        draft.spec["territories"].remove(territory)
        _save(draft, by=by)


def setup_territory_move(*, by, key: str, up: bool) -> None:
    """Move a territory one place earlier (up) or later in the priority order; priorities become 1, 2, 3, ..."""
    _require(by)
    with transaction.atomic():
        draft = _locked_draft(by=by)
        order = ordered(draft.spec)
        index = order.index(territory_find(draft.spec, key))
        other = index - 1 if up else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
        for priority, territory in enumerate(order, start=1):
            territory["priority"] = priority
        _save(draft, by=by)


def named_account_owner_problem(owner) -> str:
    if owner is None:
        return ""
    if not owner.is_active:
        return f"{owner} is inactive."
    if not owner.groups.filter(name=roles.AE).exists():
        return f"{owner} is not an account executive; a named account belongs to an AE."
    return ""


def setup_named_account_set(*, by, account: Account, owner) -> None:
    """Give an account an owner AE in the draft (None: no owner any more); applied when the draft is published."""
    _require(by)
    problem = named_account_owner_problem(owner)
    if problem:
        raise ValidationError({"owner": [problem]})
    with transaction.atomic():
        draft = _locked_draft(by=by)
        changes = draft.spec.setdefault("named_accounts", {})
        if (owner.pk if owner else None) == account.named_account_owner_id:
            changes.pop(str(account.pk), None)  # back to what is published
        else:
            changes[str(account.pk)] = owner.pk if owner else None
        _save(draft, by=by)


def named_accounts_view(spec: dict) -> list[dict]:
    """Every account with an owner, published or in the draft, with what the draft changes."""
    changes = {int(k): v for k, v in (spec.get("named_accounts") or {}).items()}
    accounts = Account.objects.filter(named_account_owner__isnull=False) | Account.objects.filter(pk__in=changes)
    accounts = accounts.select_related("named_account_owner").order_by("name")
    users = get_user_model().objects.in_bulk([v for v in changes.values() if v])
    rows = []
    for account in accounts:
        changed = account.pk in changes
        draft_owner = users.get(changes[account.pk]) if changed else account.named_account_owner
        rows.append(
            {"account": account, "published": account.named_account_owner, "draft": draft_owner, "changed": changed}
        )
    return rows


def setup_draft_discard(*, by) -> None:
    _require(by)
    with transaction.atomic():
        draft = RoutingSetupDraft.objects.select_for_update().filter(status=SetupDraftStatus.OPEN).first()
        if draft is None:
            raise SetupError("There is no draft to discard.")
        draft.status, draft.closed_by, draft.closed_at = SetupDraftStatus.DISCARDED, by, timezone.now()
        draft.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
        audit_log(actor=as_actor(by), action="routing.setup_discard", obj=draft)


def setup_problems(spec: dict) -> dict[str, list[str]]:
    """Every problem of a whole set-up, each prefixed with its territory's name (what publishing refuses)."""
    found: dict[str, list[str]] = {}
    known = _known(spec["territories"])
    for territory in spec["territories"]:
        others = [t for t in spec["territories"] if t is not territory]
        for name, messages in territory_spec_problems(territory, others=others, known=known).items():
            found.setdefault(f"{territory['key']}.{name}", []).extend(
                f"{territory['name'] or 'Unnamed territory'}: {message}" for message in messages
            )
    changes = {int(k): v for k, v in (spec.get("named_accounts") or {}).items()}
    users = get_user_model().objects.in_bulk([v for v in changes.values() if v])
    accounts = Account.objects.in_bulk(list(changes))
    for account_id, owner_id in changes.items():
        problem = "No such account." if account_id not in accounts else ""
        if owner_id is not None:
            problem = problem or ("No such person." if owner_id not in users else "")
            problem = problem or named_account_owner_problem(users[owner_id])
        if problem:
            found.setdefault(f"named_accounts.{account_id}", []).append(problem)
    return found


def setup_draft_publish(*, by, now: datetime | None = None) -> int:
    """Make the open draft the routing set-up, all or nothing; returns the new set-up version."""
    _require(by)
    now = now or timezone.now()
    with transaction.atomic():
        draft = RoutingSetupDraft.objects.select_for_update().filter(status=SetupDraftStatus.OPEN).first()
        if draft is None:
            raise SetupError("There is no draft to publish.")
        spec = draft.spec
        _raise(setup_problems(spec))
        # Lock the published rows: two publishers (or the API) never interleave their writes.
        published = {t.pk: t for t in Territory.objects.select_for_update().order_by("pk")}
        keep = {t["id"] for t in spec["territories"] if t.get("id")}
        removed = [t for pk, t in published.items() if pk not in keep]
        for territory in removed:
            territory.delete()
        version = max([t.setup_version for t in published.values()] + [draft.based_on_version, 0]) + 1
        written = []
        try:
            for territory in ordered(spec):
                data = {name: territory[name] for name in services.TERRITORY_FIELDS}
                data["revenue_min"], data["revenue_max"] = (
                    _decimal(territory["revenue_min"]),
                    _decimal(territory["revenue_max"]),
                )
                data["team_id"] = territory["team_id"]
                members = [{**m, "weight": _decimal(m["weight"])} for m in territory["members"]]
                written.append(
                    services.territory_save(
                        by=by, data=data, members=members, territory=published.get(territory.get("id"))
                    ).pk
                )
        except ValidationError as error:
            raise ValidationError(
                {
                    f"{territory['key']}.{k}": [f"{territory['name']}: {m}" for m in v]
                    for k, v in error.message_dict.items()
                }
            ) from None
        Territory.objects.filter(pk__in=written).update(setup_version=version)
        changes = {int(k): v for k, v in (spec.get("named_accounts") or {}).items()}
        for account_id, owner_id in changes.items():
            Account.objects.filter(pk=account_id).update(named_account_owner_id=owner_id)
        draft.status, draft.published_version = SetupDraftStatus.PUBLISHED, version
        draft.closed_by, draft.closed_at = by, now
        draft.save(update_fields=["status", "published_version", "closed_by", "closed_at", "updated_at"])
        audit_log(
            actor=as_actor(by),
            action="routing.setup_publish",
            obj=draft,
            object_repr=f"routing set-up v{version}",
            changes={
                "version": version,
                "territories": [t["name"] for t in ordered(spec)],
                "removed": [t.name for t in removed],
                "named_accounts": {str(k): v for k, v in changes.items()},
            },
            at=now,
        )
    return version


# --- reps: capacity and availability ---------------------------------------------------------------------------


def rep_availability_update(
    *,
    by,
    user,
    monthly_capacity: int,
    out_of_office_from: date | None,
    out_of_office_until: date | None,
    active: bool,
    now: datetime | None = None,
) -> list:
    """Change a rep's monthly capacity, out-of-office dates and whether they work at all. A rep who is out of office
    today or inactive has their unworked SQLs re-routed at once (routing.services.rep_unavailable_reroute); returns
    those decisions. The capacity is the rep's default and goes into the draft set-up for their memberships."""
    _require(by)
    now = now or timezone.now()
    problems: dict[str, list[str]] = {}
    if problem := rules.capacity_problem(monthly_capacity):
        problems["monthly_capacity"] = [problem]
    if out_of_office_until and not out_of_office_from:
        problems["out_of_office_from"] = ["Say when the absence starts."]
    if out_of_office_from and out_of_office_until and out_of_office_until < out_of_office_from:
        problems["out_of_office_until"] = ["The absence must end on or after the day it starts."]
    if not active and user.pk == by.pk:
        problems["active"] = ["You cannot switch yourself off."]
    _raise(problems)
    today = now.date()
    with transaction.atomic():
        profile, _ = RepProfile.objects.select_for_update().get_or_create(user=user)
        before = {
            "monthly_capacity": profile.monthly_capacity,
            "out_of_office_from": _text(profile.out_of_office_from),
            "out_of_office_until": _text(profile.out_of_office_until),
            "active": user.is_active,
        }
        was_away = not user.is_active or profile.is_out_of_office(today)
        profile.monthly_capacity = monthly_capacity
        profile.out_of_office_from, profile.out_of_office_until = out_of_office_from, out_of_office_until
        profile.save(update_fields=["monthly_capacity", "out_of_office_from", "out_of_office_until"])
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
        after = {
            "monthly_capacity": monthly_capacity,
            "out_of_office_from": _text(out_of_office_from),
            "out_of_office_until": _text(out_of_office_until),
            "active": active,
        }
        if before["monthly_capacity"] != monthly_capacity:
            _draft_capacity(by=by, user_id=user.pk, capacity=monthly_capacity)
        audit_log(
            actor=as_actor(by),
            action="routing.rep_availability",
            obj=profile,
            object_repr=str(user.get_full_name() or user.get_username()),
            changes={"before": before, "after": after},
            at=now,
        )
        decisions = []
        away = not active or profile.is_out_of_office(today)
        if away and not was_away:
            if not active:
                reason = f"{user.get_full_name() or user.get_username()} no longer takes leads"
            else:
                until = f" until {out_of_office_until:%Y-%m-%d}" if out_of_office_until else ""
                reason = f"{user.get_full_name() or user.get_username()} out of office{until}"
            decisions = services.rep_unavailable_reroute(user=user, by=by, reason=reason, now=now)
    return decisions


def _draft_capacity(*, by, user_id: int, capacity: int) -> None:
    if not any(True for _ in TerritoryMember.objects.filter(user_id=user_id)[:1]) and draft_open() is None:
        return
    draft = _locked_draft(by=by)
    for territory in draft.spec["territories"]:
        for member in territory["members"]:
            if member["user_id"] == user_id:
                member["monthly_capacity"] = capacity
    _save(draft, by=by)


def default_capacity_for(user) -> int:
    profile = RepProfile.objects.filter(user=user).first()
    return profile.monthly_capacity if profile else default_monthly_capacity()
