"""Who may take which action on a lead, and why not: the one definition the pages (which buttons to show), the API
and the services (which refuse) all read. Plain facts in, a refusal in words (or None) out; no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass

from leadops.rules import Stage

ACCEPT = "accept"
REJECT = "reject"
LOG_ACTIVITY = "log_activity"
CLAIM = "claim"
SAL_ACCEPT = "sal_accept"
RETURN = "return"
OPPORTUNITY = "opportunity"
REASSIGN = "reassign"
ACTIONS = (ACCEPT, REJECT, LOG_ACTIVITY, CLAIM, SAL_ACCEPT, RETURN, OPPORTUNITY, REASSIGN)

# Stages in which a rep works a lead and logs calls, e-mails and meetings on it.
WORKING_STAGES = frozenset({Stage.MQL, Stage.SQL, Stage.ACCEPTED, Stage.OPPORTUNITY})
# Stages in which an unowned lead sits in a territory's queue for a rep to claim.
CLAIMABLE_STAGES = frozenset({Stage.MQL, Stage.SQL})

PERM_WORK = "leadops.work_lead_queue"
PERM_ACCEPT = "leadops.accept_sql"
PERM_AE = "leadops.log_discovery_call"
PERM_TEAM = "leadops.view_team_leads"
PERM_CONFIGURE = "leadops.configure_territories"


@dataclass(frozen=True)
class ActorFacts:
    user_id: int
    perms: frozenset[str]
    manages_owner: bool = False  # the lead's owner is in a team this person manages
    in_lead_territory: bool = False  # a member of the territory whose queue holds the lead
    under_capacity: bool = True  # could take one more lead this month


@dataclass(frozen=True)
class LeadFacts:
    stage: str
    owner_id: int | None
    sdr_id: int | None = None
    sal: bool = False  # the AE has accepted it as a sales-accepted lead


def _label(stage: str) -> str:
    return Stage.LABELS.get(stage, stage)


def action_refusal(action: str, actor: ActorFacts, lead: LeadFacts) -> str | None:
    """Why `actor` may not take `action` on `lead` now, in words a person can act on; None when they may."""
    own = lead.owner_id is not None and lead.owner_id == actor.user_id
    if action in (ACCEPT, REJECT):
        if PERM_ACCEPT not in actor.perms:
            return "Your role does not accept or reject SQLs."
        if not own:
            return "Only the lead's owner accepts or rejects it."
        if lead.stage != Stage.SQL:
            return f"Only an SQL can be accepted or rejected; this lead is {_label(lead.stage)}."
        return None
    if action == LOG_ACTIVITY:
        if PERM_WORK not in actor.perms:
            return "Your role does not log activities."
        if not own:
            return "Only the lead's owner logs activities on it."
        if lead.stage not in WORKING_STAGES:
            return f"A {_label(lead.stage)} lead is not being worked; nothing to log."
        return None
    if action == CLAIM:
        if PERM_WORK not in actor.perms:
            return "Your role does not work a lead queue."
        if lead.owner_id is not None:
            return "This lead already has an owner."
        if lead.stage not in CLAIMABLE_STAGES:
            return f"A {_label(lead.stage)} lead is not waiting in a queue."
        if not actor.in_lead_territory:
            return "This lead waits in the queue of a territory you are not a member of."
        if not actor.under_capacity:
            return "You are at your monthly capacity; ask your manager before taking more leads."
        return None
    if action in (SAL_ACCEPT, RETURN):
        if PERM_AE not in actor.perms:
            return "Only account executives take on or return accepted leads."
        if not own:
            return "Only the AE the lead was handed to takes it on or returns it."
        if lead.stage != Stage.ACCEPTED:
            return f"Only an accepted lead waits for the AE; this lead is {_label(lead.stage)}."
        if lead.sal:
            return "You already took this lead on as an SAL."
        if action == RETURN and lead.sdr_id is None:
            return "No SDR handed this lead over, so there is nobody to return it to."
        return None
    if action == OPPORTUNITY:
        if PERM_AE not in actor.perms:
            return "Only account executives open opportunities."
        if not own:
            return "Only the lead's AE opens or updates its opportunity."
        if lead.stage == Stage.ACCEPTED and not lead.sal:
            return "Take the lead on as an SAL before opening an opportunity."
        if lead.stage not in (Stage.ACCEPTED, Stage.OPPORTUNITY):
            return f"A {_label(lead.stage)} lead has no opportunity to open or update."
        return None
    if action == REASSIGN:
        if PERM_CONFIGURE in actor.perms:
            pass
        elif PERM_TEAM not in actor.perms:
            return "Only managers and RevOps reassign leads."
        elif lead.owner_id is not None and not actor.manages_owner and lead.owner_id != actor.user_id:
            return "This lead belongs to a rep outside the teams you manage."
        if lead.stage not in WORKING_STAGES:
            return f"A {_label(lead.stage)} lead is not being worked; there is nothing to reassign."
        return None
    return f"'{action}' is not an action on a lead."


def allowed_actions(actor: ActorFacts, lead: LeadFacts) -> list[str]:
    return [action for action in ACTIONS if action_refusal(action, actor, lead) is None]


def rejection_target(*, disqualifies: bool) -> str:
    """Where a rejected SQL goes: disqualified for the disqualifying reasons, else back to nurture."""
    return Stage.DISQUALIFIED if disqualifies else Stage.NURTURE


@dataclass(frozen=True)
class AeFacts:
    user_id: int
    name: str
    open_handoffs: int  # accepted leads waiting for them
    active: bool = True
    out_of_office: bool = False


def ae_choose(*, named_owner: AeFacts | None, team_aes, team_name: str) -> tuple[AeFacts | None, list[str]]:
    """The AE an accepted SQL goes to: the account's named owner when they are an active AE in office, else the
    team's available AE with the fewest leads waiting for them (ties: lowest id); (None, path) when nobody can."""
    path = []
    if named_owner is not None:
        if named_owner.active and not named_owner.out_of_office:
            return named_owner, [f"named account: {named_owner.name} owns it"]
        why = "inactive" if not named_owner.active else "out of office"
        path.append(f"named account owner {named_owner.name} is {why}")
    available = [ae for ae in team_aes if ae.active and not ae.out_of_office]
    if not available:
        path.append(f"no AE of {team_name or 'the team'} is available")
        return None, path
    best = min(available, key=lambda ae: (ae.open_handoffs, ae.user_id))
    path.append(f"{team_name}: {best.name} has the fewest leads waiting ({best.open_handoffs})")
    return best, path
