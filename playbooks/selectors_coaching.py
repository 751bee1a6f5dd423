"""Reads of coaching: the logged discovery calls a person may coach, turned into facts for playbooks.coaching, and
the targets each team is held to. An AE sees their own calls, a manager their team's, an admin everyone's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leadops.models import RepProfile, Team
from leadops.permissions import has_role_perm
from leadops.selectors import team_member_ids
from playbooks import coaching
from playbooks.models import CoachingTargets, DiscoveryCall, NextStep, ObjectionRaised

PERM_AE = "leadops.log_discovery_call"
PERM_TEAM = "leadops.view_team_leads"
PERM_ALL = "leadops.configure_territories"
COACHING_PERMS = (PERM_AE, PERM_TEAM, PERM_ALL)
FLAGGED_MAX = 100


def may_coach(user) -> bool:
    return any(has_role_perm(user, perm) for perm in COACHING_PERMS)


def coached_calls(*, user) -> QuerySet[DiscoveryCall]:
    """The calls this person may see coaching figures of."""
    calls = DiscoveryCall.objects.all()
    if has_role_perm(user, PERM_ALL):
        return calls
    if has_role_perm(user, PERM_TEAM):
        return calls.filter(ae__in=team_member_ids(manager=user))
    if has_role_perm(user, PERM_AE):
        return calls.filter(ae=user)
    return calls.none()


def targets_by_team() -> dict[int | None, coaching.Targets]:
    """Every team's targets (None: the defaults; the playbook's when that row is missing). One query."""
    found: dict[int | None, coaching.Targets] = {None: coaching.Targets()}
    for row in CoachingTargets.objects.all():
        try:
            found[row.team_id] = targets_of_row(row)
        except coaching.TargetsError:
            continue
    return found


def targets_of_row(row: CoachingTargets) -> coaching.Targets:
    return coaching.Targets(
        call_minutes_min=row.call_minutes_min,
        call_minutes_max=row.call_minutes_max,
        questions_min=row.questions_min,
        next_step_pct=row.next_step_pct,
        decision_maker_pct=row.decision_maker_pct,
    )


def call_facts(calls: QuerySet[DiscoveryCall]) -> list[coaching.CallFacts]:
    """Two queries: the calls, then their unresolved objections."""
    rows = list(
        calls.values_list(
            "pk",
            "ae_id",
            "lead_id",
            "occurred_at",
            "duration_minutes",
            "questions_asked",
            "decision_maker_present",
            "next_step",
        )
    )
    unresolved: dict[int, list[str]] = {}
    if rows:
        for call_id, kind in ObjectionRaised.objects.filter(
            call_id__in=[row[0] for row in rows], resolved=False
        ).values_list("call_id", "objection__key"):
            unresolved.setdefault(call_id, []).append(kind)
    return [
        coaching.CallFacts(
            call_id=pk,
            ae_id=ae_id,
            lead_id=lead_id,
            occurred_at=occurred_at,
            duration_minutes=minutes,
            questions_asked=questions,
            decision_maker_present=decision_maker,
            # A documented next step is a real one: "none" (with its reason) is a call that ended without one.
            next_step_documented=next_step != NextStep.NONE,
            unresolved_objections=tuple(sorted(unresolved.get(pk, ()))),
        )
        for pk, ae_id, lead_id, occurred_at, minutes, questions, decision_maker, next_step in rows
    ]


@dataclass
class CoachingReport:
    since: datetime | None
    until: datetime | None
    teams: list[dict]  # {"team": Team | None, "summary": Summary, "aes": [{"ae": User, "summary": Summary}]}
    flagged: list[dict]  # {"call": CallFacts, "misses": (...), "ae": User, "lead_name": str}
    flagged_total: int
    total: coaching.Summary


def coaching_report(*, user, since: datetime | None = None, until: datetime | None = None) -> CoachingReport:
    """The figures per AE and per team for the calls in [since, until) this person may see, and the calls that
    missed a target. A fixed number of queries whatever the number of calls."""
    calls = coached_calls(user=user)
    if since is not None:
        calls = calls.filter(occurred_at__gte=since)
    if until is not None:
        calls = calls.filter(occurred_at__lt=until)
    facts = call_facts(calls)
    ae_ids = {fact.ae_id for fact in facts}
    users = get_user_model().objects.in_bulk(ae_ids)
    team_of = dict(RepProfile.objects.filter(user_id__in=ae_ids).values_list("user_id", "team_id"))
    teams = Team.objects.in_bulk({team_id for team_id in team_of.values() if team_id})
    targets = targets_by_team()

    def targets_for_team(team_id):
        return targets.get(team_id, targets[None])

    by_ae = coaching.coaching_by(facts, lambda ae_id: targets_for_team(team_of.get(ae_id)), key=lambda fact: fact.ae_id)
    by_team = coaching.coaching_by(facts, targets_for_team, key=lambda fact: team_of.get(fact.ae_id))
    team_rows = []
    for team_id, summary in sorted(by_team.items(), key=lambda item: teams[item[0]].name if item[0] else "~"):
        aes = [
            {"ae": users[ae_id], "summary": by_ae[ae_id]}
            for ae_id in sorted(
                (ae_id for ae_id in by_ae if team_of.get(ae_id) == team_id),
                key=lambda ae_id: users[ae_id].get_full_name() or users[ae_id].get_username(),
            )
        ]
        team_rows.append({"team": teams.get(team_id), "summary": summary, "aes": aes})
    flagged_all = coaching.flagged_calls(facts, lambda fact: targets_for_team(team_of.get(fact.ae_id)))
    from leadops.models import Lead

    shown = flagged_all[:FLAGGED_MAX]
    leads = Lead.objects.in_bulk({item.call.lead_id for item in shown})
    flagged = [
        {"call": item.call, "misses": item.misses, "ae": users[item.call.ae_id], "lead": leads.get(item.call.lead_id)}
        for item in shown
    ]
    return CoachingReport(
        since=since,
        until=until,
        teams=team_rows,
        flagged=flagged,
        flagged_total=len(flagged_all),
        total=coaching.coaching_summary(facts, targets[None]),
    )


def editable_targets(*, user) -> list[tuple[Team | None, coaching.Targets]]:
    """The targets this person may edit: a manager their teams', an admin the defaults."""
    targets = targets_by_team()
    editable: list[tuple[Team | None, coaching.Targets]] = []
    if has_role_perm(user, PERM_ALL):
        editable.append((None, targets[None]))
    if has_role_perm(user, PERM_TEAM):
        for team in Team.objects.filter(manager=user).order_by("name"):
            editable.append((team, targets.get(team.pk, targets[None])))
    return editable
