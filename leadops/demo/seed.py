"""Services behind `manage.py seed_demo`: create the demo world, delete it, list its logins."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.db.models import Count, Max, signals

from leadops import roles
from leadops.demo import catalog
from leadops.demo.generator import SEED_DEMO_ACTOR, WorldGenerator, anchor_bounds, faker_for
from leadops.demo.journey import StaffMember, TeamStaff
from leadops.demo.roster import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DemoUser, demo_roster, manager_username_for
from leadops.demo.signals import demo_world_resetting, demo_world_seeded
from leadops.demo.writer import BulkWriter
from leadops.models import (
    Account,
    Activity,
    AuditEntry,
    IntentSignal,
    Lead,
    LeadEvent,
    Opportunity,
    RepProfile,
    StageTransition,
    Team,
)
from leadops.rules import Stage
from leadops.services import Actor, audit_log

LEAD_CHUNK_SIZE = 2000
DELETE_CHUNK_SIZE = 2000
# What the summary counts, in the order it prints them.
WORLD_MODELS = (Team, RepProfile, Account, Lead, StageTransition, LeadEvent, IntentSignal, Activity, Opportunity)


@dataclass(frozen=True)
class SeedReport:
    lead_count: int
    seed: int
    anchor: date
    counts: dict[str, int]
    stage_counts: dict[str, int]
    seconds: float
    user_count: int


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    team: str
    exists: bool


class DemoSeedError(RuntimeError):
    """The database is not in a state the demo world can be seeded into; the message says what to do."""


def demo_seed(
    *, lead_count: int, seed: int, anchor: date, on_progress: Callable[[int], object] | None = None
) -> SeedReport:
    """Create the demo world in one transaction: all of it or, if anything fails, nothing."""
    started = time.monotonic()
    writer = BulkWriter(connection)
    with transaction.atomic():
        writer.prepare()
        teams = _create_staff(seed=seed, anchor=anchor)
        generator = WorldGenerator(
            seed=seed,
            anchor=anchor,
            lead_count=lead_count,
            teams=teams,
            first_account_id=_next_id(Account),
            first_lead_id=_next_id(Lead),
            taken_domains=frozenset(Account.objects.exclude(domain="").values_list("domain", flat=True)),
        )
        writer.write(Account, generator.build_accounts())
        writer.write(IntentSignal, generator.background_intent())
        for chunk in generator.lead_chunks(LEAD_CHUNK_SIZE):
            # Parents before children: the foreign keys are checked as rows arrive.
            writer.write(Lead, chunk.leads)
            writer.write(LeadEvent, chunk.events)
            writer.write(StageTransition, chunk.transitions)
            writer.write(Activity, chunk.activities)
            writer.write(IntentSignal, chunk.intents)
            writer.write(Opportunity, chunk.opportunities)
            if on_progress is not None:
                on_progress(len(chunk.leads))
        writer.reset_sequences([Account, Lead])
        # Routing, SLA, ... add their part of the demo world (territories, routed SQLs) in the same transaction.
        demo_world_seeded.send(sender=demo_seed, anchor=anchor, seed=seed)
        counts = {model.__name__: model.objects.count() for model in WORLD_MODELS}
        stage_counts = _stage_counts()
        user_count = get_user_model().objects.filter(username__in=[u.username for u in demo_roster()]).count()
        audit_log(
            actor=Actor(system=SEED_DEMO_ACTOR),
            action="demo.seed",
            object_type="leadops.demo",
            object_repr=f"Demo world: {lead_count} leads, seed {seed}, anchor {anchor.isoformat()}",
            changes={
                "seed": seed,
                "anchor": anchor.isoformat(),
                "leads_requested": lead_count,
                "counts": counts,
                "stages": stage_counts,
                "demo_users": user_count,
            },
        )
    return SeedReport(
        lead_count=lead_count,
        seed=seed,
        anchor=anchor,
        counts=counts,
        stage_counts=stage_counts,
        seconds=time.monotonic() - started,
        user_count=user_count,
    )


def demo_reset() -> dict[str, int]:
    """Delete the demo world: every lead, account and what hangs off them, the audit log, demo teams and users."""
    deleted: dict[str, int] = {}
    roster = demo_roster()
    with transaction.atomic():
        # Children first, each as one DELETE; then leads and accounts, honouring what other apps' foreign keys to
        # them say (scoring aggregates, reviews, ...).
        for model in (AuditEntry, LeadEvent, StageTransition, IntentSignal, Activity, Opportunity):
            deleted[model.__name__] = model.objects.all().delete()[0]
        for model in (Lead, Account):
            deleted[model.__name__] = _delete_all(model)
        team_names = [territory.team_name for territory in catalog.TERRITORIES]
        demo_world_resetting.send(
            sender=demo_reset, team_names=team_names, usernames=[user.username for user in roster]
        )
        deleted["Team"] = Team.objects.filter(name__in=team_names).delete()[1].get(Team._meta.label, 0)
        User = get_user_model()
        users = User.objects.filter(username__in=[user.username for user in roster])
        deleted["User"] = users.delete()[1].get(User._meta.label, 0)
    return deleted


def demo_lead_count() -> int:
    return Lead.objects.count()


def demo_logins() -> list[DemoLogin]:
    """The printed logins, with their role and team, and whether they exist in this database."""
    User = get_user_model()
    printed = [user for user in demo_roster() if user.is_printed_login]
    existing = {
        user.username: user
        for user in User.objects.filter(username__in=[u.username for u in printed]).select_related("profile__team")
    }
    logins = []
    for demo_user in printed:
        user = existing.get(demo_user.username)
        profile = getattr(user, "profile", None) if user else None
        team = profile.team.name if profile and profile.team else ""
        logins.append(DemoLogin(demo_user.username, roles.ROLE_LABELS[demo_user.role], team, user is not None))
    return logins


def demo_other_usernames() -> list[str]:
    return [user.username for user in demo_roster() if not user.is_printed_login]


# --- internals ------------------------------------------------------------------------------------------------


def _create_staff(*, seed: int, anchor: date) -> dict[str, TeamStaff]:
    """Users, teams and rep profiles (idempotent: a re-run updates them in place)."""
    rng = random.Random(f"{seed}:staff")
    faker = faker_for("en_US")
    faker.seed_instance(f"{seed}:staff")
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLE_ORDER)}
    missing = [role for role in roles.ROLE_ORDER if role not in groups]
    if missing:
        raise DemoSeedError(f"The role groups {', '.join(missing)} do not exist; run `manage.py migrate` first.")
    history_start, _ = anchor_bounds(anchor)
    # Hashing is deliberately slow (~0.3 s); everyone shares the demo password, so hash it once.
    password_hash = make_password(DEMO_PASSWORD)
    User = get_user_model()
    roster = demo_roster()
    users = {}
    for demo_user in roster:
        user, _ = User.objects.update_or_create(
            username=demo_user.username,
            defaults={
                "first_name": faker.first_name(),
                "last_name": faker.last_name(),
                "email": f"{demo_user.username}@{DEMO_EMAIL_DOMAIN}",
                "password": password_hash,
                "is_active": True,
                # The admin is also the support admin of Django's admin site.
                "is_staff": demo_user.role == roles.ADMIN,
                "is_superuser": demo_user.role == roles.ADMIN,
                "date_joined": history_start - timedelta(days=30),
            },
        )
        user.groups.set([groups[demo_user.role]])
        users[demo_user.username] = user

    territories = {territory.key: territory for territory in catalog.TERRITORIES}
    teams = {}
    for territory in catalog.TERRITORIES:
        manager = users[manager_username_for(territory.key)]
        team, _ = Team.objects.update_or_create(
            name=territory.team_name, defaults={"region": territory.region, "manager": manager}
        )
        teams[territory.key] = (team, manager)

    staff: dict[str, dict[str, list[StaffMember]]] = {key: {roles.SDR: [], roles.AE: []} for key in territories}
    for demo_user in roster:
        if demo_user.territory_key is None:
            continue
        team, manager = teams[demo_user.territory_key]
        away_from = away_until = None
        if demo_user.out_of_office_days:
            away_from = anchor + timedelta(days=demo_user.out_of_office_days[0])
            away_until = anchor + timedelta(days=demo_user.out_of_office_days[1])
        user = users[demo_user.username]
        RepProfile.objects.update_or_create(
            user=user,
            defaults={
                "team": team,
                "manager": None if user == manager else manager,
                "time_zone": demo_user.time_zone,
                "monthly_capacity": rng.randrange(50, 101, 5),
                "out_of_office_from": away_from,
                "out_of_office_until": away_until,
            },
        )
        if demo_user.is_rep:
            staff[demo_user.territory_key][demo_user.role].append(
                _staff_member(demo_user, user.pk, territories[demo_user.territory_key], away_from, away_until)
            )
    return {
        key: TeamStaff(
            territory=territories[key],
            sdrs=tuple(staff[key][roles.SDR]),
            aes=tuple(staff[key][roles.AE]),
        )
        for key in territories
    }


def _staff_member(demo_user: DemoUser, user_id: int, territory, away_from, away_until) -> StaffMember:
    def midnight_utc(day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())

    return StaffMember(
        user_id=user_id,
        username=demo_user.username,
        workload_weight=demo_user.workload_weight,
        recent_workload_weight=demo_user.recent_workload_weight,
        utc_offset_hours=territory.utc_offset_hours,
        away_from=midnight_utc(away_from) if away_from else None,
        # Out of office "until" a date means the whole of that day.
        away_until=midnight_utc(away_until + timedelta(days=1)) - 1 if away_until else None,
    )


def _next_id(model) -> int:
    return (model.objects.aggregate(highest=Max("pk"))["highest"] or 0) + 1


def _stage_counts() -> dict[str, int]:
    counts = dict(Lead.objects.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage: counts.get(stage, 0) for stage in Stage.ALL}


def _delete_all(model) -> int:
    """Delete every row of `model`, applying each incoming foreign key's on_delete rule set-wise.

    Because every row goes, CASCADE means deleting every row that points at the table and SET_NULL clearing every
    such reference: one statement per relation, where the ORM's collector would take minutes for 100,000 leads.
    Anything unusual (delete signals, PROTECT with rows still pointing here, many-to-many) takes the ORM's path,
    which also raises ProtectedError with the details.
    """
    if signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model):
        return _delete_in_chunks(model)
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            return _delete_in_chunks(model)
        pointing_here = relation.related_model._base_manager.filter(**{f"{relation.field.name}__isnull": False})
        if relation.on_delete is models.CASCADE:
            pointing_here.delete()
        elif relation.on_delete is models.SET_NULL:
            pointing_here.update(**{relation.field.name: None})
        elif relation.on_delete is not models.DO_NOTHING and pointing_here.exists():
            return _delete_in_chunks(model)
    count = model._base_manager.count()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    return count


def _delete_in_chunks(model) -> int:
    ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), DELETE_CHUNK_SIZE):
        model.objects.filter(pk__in=ids[start : start + DELETE_CHUNK_SIZE]).delete()
    return len(ids)
