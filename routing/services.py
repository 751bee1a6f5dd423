"""Writes of routing: route leads (in batches), re-route a rep's leads, reassign by hand, save territories.

Capacity is safe under concurrency: a routing batch locks this month's counter rows of every rep it may assign to
(in user id order, after the leads in id order, so two routers never deadlock), decides every lead against the
locked counts, and then adds its assignments with a conditional UPDATE (`assigned + n <= capacity`); a router
running at the same time waits for the lock and sees the new counts. The same lead routed twice at once: the lead
row is locked and an initial decision is recorded once (a unique constraint holds it), so the second router finds
the first one's decision and assigns nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from leadops.models import Lead, RepProfile, Team
from leadops.permissions import has_any_role_perm, has_role_perm
from leadops.rules import Stage
from leadops.selectors import lead_list
from leadops.services import as_actor, audit_log, lead_assign, lead_assign_bulk
from routing import rules, selectors
from routing.models import DecisionKind, RepMonthlyLoad, RoutingDecision, RoutingQueue, Territory, TerritoryMember

ROUTING = "routing"
CONFIGURE = "leadops.configure_territories"
REASSIGN_PERMS = ("leadops.view_team_leads", CONFIGURE)

# Sent once per decision after it commits, with lead_id and decision_id: the SLA app starts its clocks here.
lead_routed = Signal()
# The same, once per routing batch with every decision id: listeners with per-batch work (the SLA clocks) take this
# one, so a burst of SQLs costs them one task, not one per lead.
leads_routed = Signal()


class RoutingRefused(Exception):
    pass


def _lock_counters(*, user_ids, month) -> dict[int, int]:
    """Make sure every rep has this month's counter row and lock them all, in user id order."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return {}
    RepMonthlyLoad.objects.bulk_create(
        [RepMonthlyLoad(user_id=user_id, month=month) for user_id in user_ids], ignore_conflicts=True
    )
    rows = (
        RepMonthlyLoad.objects.select_for_update()
        .filter(month=month, user_id__in=user_ids)
        .order_by("user_id")
        .values_list("user_id", "assigned")
    )
    return dict(rows)


def _counter_add(*, user_id: int, month, n: int, capacity: int | None) -> None:
    rows = RepMonthlyLoad.objects.filter(user_id=user_id, month=month)
    if capacity is not None:
        rows = rows.filter(assigned__lte=capacity - n)
    if rows.update(assigned=F("assigned") + n) != 1:
        # Cannot happen while the row lock is held; refuse rather than overfill if it ever does.
        raise RoutingRefused(f"Capacity of user {user_id} would be exceeded; routing batch rolled back.")


def _counter_release(*, user_ids, month) -> None:
    for user_id, n in Counter(user_ids).items():
        RepMonthlyLoad.objects.filter(user_id=user_id, month=month, assigned__gte=n).update(assigned=F("assigned") - n)


def leads_route(
    *,
    lead_ids,
    now: datetime | None = None,
    kind: str = DecisionKind.INITIAL,
    by=ROUTING,
    reason: str = "",
    exclude_user_ids=(),
    from_owner_id: int | None = None,
    sweep_ids=(),
) -> list[RoutingDecision]:
    """Route these leads in one transaction and return their decisions (an earlier initial decision as it is).

    kind "initial": a lead that already has an initial decision is left alone; one that already has an owner keeps
    it (the decision says so). kind "reroute": only leads still owned by `from_owner_id` move, away from the
    reps in `exclude_user_ids`, and the old owner's count for the month goes down.

    `sweep_ids`: more leads to route in the same batch if no other router holds them (skip locked), so that a
    router behind a queue of small tasks takes up the leads of the tasks after it.
    """
    now = now or timezone.now()
    actor = as_actor(by)
    month = selectors.month_of(now.date())
    excluded = frozenset(exclude_user_ids)
    ids = sorted(set(lead_ids))
    with transaction.atomic():
        owners = dict(
            Lead.objects.select_for_update(no_key=True)
            .filter(pk__any_of=ids)
            .order_by("pk")
            .values_list("pk", "owner_id")
        )
        extra = sorted(set(sweep_ids) - set(ids))
        if extra:
            owners.update(
                Lead.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(pk__any_of=extra)
                .order_by("pk")
                .values_list("pk", "owner_id")
            )
            ids = sorted(owners)
        existing: dict[int, RoutingDecision] = {}
        if kind == DecisionKind.INITIAL:
            existing = {d.lead_id: d for d in RoutingDecision.objects.filter(lead_id__in=ids, kind=kind)}
        todo = [pk for pk in ids if pk in owners and pk not in existing]
        if kind == DecisionKind.REROUTE:
            todo = [pk for pk in todo if owners[pk] == from_owner_id]
        if not todo:
            return [existing[pk] for pk in ids if pk in existing]

        facts = selectors.lead_facts_many(lead_ids=todo)
        setup = selectors.TerritorySetup(now=now)
        named_ids = {f.named_owner_id for f in facts.values() if f.named_owner_id}
        named = selectors.named_owner_facts(user_ids=named_ids, today=now.date(), excluded=excluded)
        assigned = _lock_counters(user_ids=[*setup.user_ids, *named_ids], month=month)
        capacity: dict[int, int] = {}
        for member in setup.members:  # a rep in two territories: the guard allows the larger capacity
            capacity[member.user_id] = max(capacity.get(member.user_id, 0), member.monthly_capacity)
        territories = setup.facts(assigned=assigned, excluded=excluded)
        prefix = f"re-routed: {reason}" if kind == DecisionKind.REROUTE else ""

        decisions, added = [], Counter()
        for pk in todo:
            lead = facts[pk]
            if kind == DecisionKind.INITIAL and owners[pk] is not None:
                decisions.append(
                    RoutingDecision(
                        lead_id=pk,
                        assignee_id=owners[pk],
                        path=["already has an owner; not routed again"],
                        reason="Already had an owner when it became an SQL",
                        decided_at=now,
                        by_user=actor.user,
                        by_system=actor.system,
                        kind=kind,
                    )
                )
                continue
            decision = rules.route(
                lead=lead, territories=territories, now=now, named_owner=named.get(lead.named_owner_id)
            )
            if decision.assignee_id is not None:
                added[decision.assignee_id] += 1
                assigned[decision.assignee_id] = assigned.get(decision.assignee_id, 0) + 1
                territories = setup.refresh(
                    territories, user_id=decision.assignee_id, assigned=assigned, excluded=excluded
                )
            path = [prefix, *decision.path] if prefix else list(decision.path)
            decisions.append(
                RoutingDecision(
                    lead_id=pk,
                    assignee_id=decision.assignee_id,
                    queue=decision.queue,
                    queue_owner_id=decision.queue_owner_id,
                    territory_id=decision.territory_id,
                    path=path,
                    reason=decision.reason,
                    setup_version=decision.setup_version,
                    decided_at=now,
                    by_user=actor.user,
                    by_system=actor.system,
                    kind=kind,
                )
            )

        for user_id, n in sorted(added.items()):
            # Named-account owners take their accounts whatever their load; everyone else only up to capacity.
            from_territory = user_id in capacity and user_id not in named_ids
            _counter_add(user_id=user_id, month=month, n=n, capacity=capacity[user_id] if from_territory else None)
        if kind == DecisionKind.REROUTE and from_owner_id is not None:
            _counter_release(user_ids=[from_owner_id] * len(decisions), month=month)
        RoutingDecision.objects.bulk_create(decisions, batch_size=1000)
        changed = {d.lead_id: d.assignee_id for d in decisions if d.assignee_id != owners[d.lead_id]}
        if changed:
            lead_assign_bulk(
                owner_by_lead=changed,
                by=actor,
                reason_by_lead={d.lead_id: " -> ".join(d.path) for d in decisions},
                at=now,
            )
        _after_commit(decisions)
    by_lead = {**existing, **{d.lead_id: d for d in decisions}}
    return [by_lead[pk] for pk in ids if pk in by_lead]


def _after_commit(decisions) -> None:
    from routing.tasks import routing_notify

    sent = [(d.lead_id, d.pk) for d in decisions]
    notify = [
        d.pk for d in decisions if d.assignee_id is not None and d.path[0] != "already has an owner; not routed again"
    ]

    def hooks():
        for lead_id, decision_id in sent:
            lead_routed.send(sender=RoutingDecision, lead_id=lead_id, decision_id=decision_id)
        if sent:
            leads_routed.send(sender=RoutingDecision, decision_ids=[decision_id for _, decision_id in sent])
        if notify:
            routing_notify.delay(notify)

    transaction.on_commit(hooks)


def lead_route(*, lead_id: int, now: datetime | None = None, kind: str = DecisionKind.INITIAL) -> RoutingDecision:
    """Route one lead (see leads_route); Lead.DoesNotExist for an unknown id."""
    decisions = leads_route(lead_ids=[lead_id], now=now, kind=kind)
    if not decisions:
        raise Lead.DoesNotExist(f"No lead {lead_id}.")
    return decisions[0]


def unrouted_sqls_route(*, since: datetime, now: datetime | None = None, batch: int = 500) -> int:
    """Route every SQL since `since` that has no owner and no decision yet (a backlog: the demo's SQLs, leads that
    became SQLs while routing was down), oldest first, a batch per transaction; returns how many were routed."""
    routed = 0
    while True:
        ids = selectors.unrouted_sql_ids(since=since, limit=batch)
        if not ids:
            return routed
        routed += len(leads_route(lead_ids=ids, now=now))


# More leads than this for one rep in one routing batch: one notification that lists them, not one each (a burst of
# SQLs must not bury a rep under e-mails, and it keeps notifying as cheap as routing).
DIGEST_OVER = 3
# What the assignee is told by kind of decision (the handoff kinds are registered by the handoff app).
NOTIFICATION_KINDS = {
    DecisionKind.INITIAL: "lead_assigned",
    DecisionKind.HANDOFF: "handoff",
    DecisionKind.RETURNED: "lead_returned",
}


def routing_notify(*, decision_ids) -> int:
    """Tell each assignee about their new leads, once per decision (the dedupe keys make a rerun harmless); a rep
    who got more than DIGEST_OVER leads in the batch gets one notification listing them. Returns how many were
    sent."""
    from django.urls import reverse

    from leadops.notifications import notification_send

    decisions = (
        RoutingDecision.objects.filter(pk__in=list(decision_ids), assignee__isnull=False)
        .select_related("assignee", "lead", "by_user")
        .order_by("assignee_id", "pk")
    )
    by_rep: dict[int, list[RoutingDecision]] = {}
    for decision in decisions:
        by_rep.setdefault(decision.assignee_id, []).append(decision)
    sent = 0
    with transaction.atomic():  # one commit for the batch rather than one per notification
        for batch in by_rep.values():
            if len(batch) > DIGEST_OVER:
                names = ", ".join(str(d.lead) for d in batch[:5])
                more = f" and {len(batch) - 5} more" if len(batch) > 5 else ""
                notification_send(
                    recipient=batch[0].assignee,
                    kind="lead_assigned",
                    message=f"{len(batch)} new leads were routed to you: {names}{more}.",
                    link=reverse("lead_list") + "?stage=sql",
                    dedupe_key=f"routing-decisions-{batch[0].pk}-{batch[-1].pk}",
                )
                sent += 1
                continue
            for decision in batch:
                notification_send(
                    recipient=decision.assignee,
                    kind=NOTIFICATION_KINDS.get(decision.kind, "lead_reassigned"),
                    message=f"{decision.lead} is yours: {' -> '.join(decision.path)}",
                    lead=decision.lead,
                    actor=decision.by_user,
                    dedupe_key=f"routing-decision-{decision.pk}",
                )
                sent += 1
    return sent


def rep_unavailable_reroute(*, user, by, reason: str, now: datetime | None = None) -> list[RoutingDecision]:
    """Re-route the rep's unworked SQLs (stage SQL, no activity yet) after they were set out of office or
    inactive; each move is a decision and an audit entry with this reason."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the leads move (e.g. out of office until 2026-12-01)."})
    lead_ids = list(
        Lead.objects.filter(owner=user, stage=Stage.SQL, first_activity_at__isnull=True).values_list("pk", flat=True)
    )
    return leads_route(
        lead_ids=lead_ids,
        now=now,
        kind=DecisionKind.REROUTE,
        by=by,
        reason=reason.strip(),
        exclude_user_ids={user.pk},
        from_owner_id=user.pk,
    )


def lead_reassign(*, lead: Lead, to_user, by, reason: str, now: datetime | None = None) -> RoutingDecision:
    """A manager (of the lead's team) or RevOps moves a lead to another rep by hand, with a reason."""
    if not has_any_role_perm(by, REASSIGN_PERMS) or not lead_list(user=by).filter(pk=lead.pk).exists():
        raise PermissionDenied("Your role does not allow you to reassign this lead.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "A reassignment needs a reason."})
    if not to_user.is_active:
        raise ValidationError({"to_user": f"{to_user} is inactive."})
    now = now or timezone.now()
    month = selectors.month_of(now.date())
    with transaction.atomic():
        current = Lead.objects.select_for_update(no_key=True).get(pk=lead.pk)
        previous_id = current.owner_id
        if previous_id == to_user.pk:
            raise ValidationError({"to_user": f"{to_user} already owns this lead."})
        _lock_counters(user_ids=[to_user.pk, *([previous_id] if previous_id else [])], month=month)
        _counter_add(user_id=to_user.pk, month=month, n=1, capacity=None)
        if previous_id:
            _counter_release(user_ids=[previous_id], month=month)
        name = by.get_full_name() or by.get_username()
        target = to_user.get_full_name() or to_user.get_username()
        decision = RoutingDecision.objects.create(
            lead=current,
            assignee=to_user,
            path=[f"reassigned by hand by {name}: {reason.strip()}", target],
            reason=reason.strip(),
            decided_at=now,
            by_user=by,
            kind=DecisionKind.MANUAL,
        )
        lead_assign(lead=current, owner=to_user, by=by, reason=reason.strip(), at=now)
        _after_commit([decision])
    lead.owner_id, lead.assigned_at = current.owner_id, current.assigned_at
    return decision


def lead_hand_over(
    *,
    lead: Lead,
    to_user,
    by,
    path: list[str],
    reason: str,
    kind: str,
    now: datetime,
    territory=None,
    queue_owner=None,
) -> RoutingDecision:
    """Record that the lead goes to `to_user` (None: nobody yet) for a lifecycle step (an SDR's accept hands it to an
    AE, an AE's return gives it back to the SDR): a routing decision with its path, the assignment and its audit
    entry, and after commit the clocks and notifications every routing decision brings. The caller holds the lead's
    row lock and has checked who may do this. Nobody to give it to: the lead waits in the overflow queue of
    `queue_owner` (the team's manager)."""
    decision = RoutingDecision.objects.create(
        lead=lead,
        assignee=to_user,
        queue="" if to_user is not None else RoutingQueue.OVERFLOW,
        queue_owner=None if to_user is not None else queue_owner,
        territory=territory,
        path=path,
        reason=reason,
        decided_at=now,
        by_user=as_actor(by).user,
        by_system=as_actor(by).system,
        kind=kind,
    )
    # No monthly-load count: the load counters pace how many new SQLs routing gives each rep, and neither an AE's
    # handoffs nor a lead coming back to the SDR who already had it is one.
    lead_assign(lead=lead, owner=to_user, by=by, reason=reason, at=now)
    _after_commit([decision])
    return decision


# --- territories ---------------------------------------------------------------------------------------------------

TERRITORY_FIELDS = (
    "name",
    "priority",
    "countries",
    "regions",
    "industries",
    "segments",
    "employees_min",
    "employees_max",
    "revenue_min",
    "revenue_max",
    "calendar",
    "active",
)


def territory_save(
    *, by, data: dict, members: list[dict] | None = None, territory: Territory | None = None
) -> Territory:
    """Create or change a territory (and, when given, replace its members), all or nothing.

    data: the TERRITORY_FIELDS plus team_id; members: dicts with user_id, role, weight, monthly_capacity, active.
    Problems are raised as one ValidationError by field ("countries", "calendar.time_zone", "members.1.weight").
    """
    if not has_role_perm(by, CONFIGURE):
        raise PermissionDenied("Your role does not allow you to configure territories.")
    spec = {name: getattr(territory, name) for name in TERRITORY_FIELDS} if territory else {}
    spec.update({k: v for k, v in data.items() if k in (*TERRITORY_FIELDS, "team_id")})
    if territory:
        spec.setdefault("team_id", territory.team_id)
    problems = rules.territory_problems(spec)
    if not Team.objects.filter(pk=spec.get("team_id")).exists():
        problems.add("team_id", "Choose the team that works this territory.")
    clash = Territory.objects.filter(name=spec.get("name")).exclude(pk=territory.pk if territory else None)
    if spec.get("name") and clash.exists():
        problems.add("name", f"A territory named {spec['name']} already exists.")
    if members is not None:
        problems.by_field.update(rules.member_problems(members).by_field)
        wanted = {m.get("user_id") for m in members}
        known = set(
            get_user_model()
            .objects.filter(pk__in=[u for u in wanted if isinstance(u, int)])
            .values_list("pk", flat=True)
        )
        for index, member in enumerate(members):
            if member.get("user_id") not in known:
                problems.add(f"members.{index}.user_id", "No such person.")
    if problems:
        raise ValidationError({name: messages for name, messages in problems.by_field.items()})
    with transaction.atomic():
        created = territory is None
        territory = territory or Territory()
        for name in (*TERRITORY_FIELDS, "team_id"):
            if name in spec:
                setattr(territory, name, spec[name])
        territory.save()
        if members is not None:
            territory.members.exclude(user_id__in=[m["user_id"] for m in members]).delete()
            # A member's capacity defaults to the one on the rep's profile (80 unless changed there).
            profile_capacity = dict(
                RepProfile.objects.filter(user_id__in=[m["user_id"] for m in members]).values_list(
                    "user_id", "monthly_capacity"
                )
            )
            for member in members:
                defaults = {
                    "role": member["role"],
                    "weight": member.get("weight", 1),
                    "active": member.get("active", True),
                }
                if "monthly_capacity" in member:
                    defaults["monthly_capacity"] = member["monthly_capacity"]
                elif member["user_id"] in profile_capacity:
                    defaults["monthly_capacity"] = profile_capacity[member["user_id"]]
                TerritoryMember.objects.update_or_create(
                    territory=territory, user_id=member["user_id"], defaults=defaults
                )
        audit_log(
            actor=as_actor(by),
            action="routing.territory_create" if created else "routing.territory_change",
            obj=territory,
            changes=json.loads(
                json.dumps(
                    {"territory": {k: spec.get(k) for k in TERRITORY_FIELDS}, "members": members}, cls=DjangoJSONEncoder
                )
            ),
        )
    return territory
