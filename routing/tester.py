"""The dry-run tester: where leads would go under the draft set-up and under the published one, and why.

Both sides call the one routing decision, routing.rules.route; the draft side only builds its facts from the draft's
JSON instead of the Territory rows. A batch is routed in order with the counts each rep would reach, as the routing
service does, so the spread over reps is the one the batch would really cause. Nothing is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from leadops.models import Account, Lead, Team
from leadops.rules import segment_for
from routing import rules, selectors
from routing.models import TerritoryMember
from routing.services_setup import _decimal

MAX_BATCH = 2000


@dataclass
class TesterLead:
    label: str
    facts: rules.LeadFacts
    account_id: int | None = None
    lead_id: int | None = None


class DraftSetup:
    """The draft's active territories and members as rule facts, like selectors.TerritorySetup for the published."""

    def __init__(self, spec: dict, *, now: datetime):
        self.now, self.today = now, now.date()
        self.territories = [t for t in spec["territories"] if t.get("active", True)]
        self.named_changes = {int(k): v for k, v in (spec.get("named_accounts") or {}).items()}
        user_ids = {m["user_id"] for t in self.territories for m in t["members"]}
        self.users = get_user_model().objects.select_related("profile").in_bulk(list(user_ids))
        self.teams = Team.objects.select_related("manager").in_bulk([t["team_id"] for t in self.territories])
        self.since = {
            (territory_id, user_id): created.date()
            for territory_id, user_id, created in TerritoryMember.objects.filter(
                territory_id__in=[t["id"] for t in self.territories if t.get("id")]
            ).values_list("territory_id", "user_id", "created_at")
        }
        self.user_ids = sorted(user_ids)

    def _rep(self, territory: dict, member: dict, *, assigned: dict[int, int], working: bool) -> rules.RepFacts:
        user = self.users[member["user_id"]]
        profile = getattr(user, "profile", None)
        ooo_from = profile.out_of_office_from if profile else None
        ooo_until = profile.out_of_office_until if profile else None
        since = self.since.get((territory.get("id"), user.pk), self.today)
        return rules.RepFacts(
            user_id=user.pk,
            name=user.get_full_name() or user.get_username(),
            role=member["role"],
            weight=Decimal(str(member["weight"])),
            active=member.get("active", True) and user.is_active,
            out_of_office=rules.out_of_office_on(self.today, ooo_from, ooo_until),
            assigned=assigned.get(user.pk, 0),
            capacity=member["monthly_capacity"],
            available_days=rules.available_days(
                today=self.today, member_since=since, ooo_from=ooo_from, ooo_until=ooo_until
            ),
            working_now=working,
        )

    def facts(self, *, assigned: dict[int, int]) -> list[rules.TerritoryFacts]:
        result = []
        for number, territory in enumerate(self.territories):
            team = self.teams.get(territory["team_id"])
            manager = team.manager if team else None
            working = rules.working_now(territory.get("calendar") or {}, self.now)
            result.append(
                rules.TerritoryFacts(
                    # Draft territories not published yet have no id; a negative one keeps them apart.
                    territory_id=territory.get("id") or -(number + 1),
                    name=territory["name"],
                    priority=territory["priority"],
                    members=tuple(
                        self._rep(territory, m, assigned=assigned, working=working)
                        for m in territory["members"]
                        if m["user_id"] in self.users
                    ),
                    countries=tuple(territory["countries"]),
                    regions=tuple(territory["regions"]),
                    industries=tuple(territory["industries"]),
                    segments=tuple(territory["segments"]),
                    employees_min=territory["employees_min"],
                    employees_max=territory["employees_max"],
                    revenue_min=_decimal(territory["revenue_min"]),
                    revenue_max=_decimal(territory["revenue_max"]),
                    overflow_owner_id=manager.pk if manager else None,
                    overflow_owner_name=(manager.get_full_name() or manager.get_username()) if manager else "",
                    active=True,
                )
            )
        return result

    def named_owner_id(self, lead: TesterLead) -> int | None:
        if lead.account_id is not None and lead.account_id in self.named_changes:
            return self.named_changes[lead.account_id]
        return lead.facts.named_owner_id


class PublishedSetup:
    """The published set-up through the routing service's own selectors."""

    def __init__(self, *, now: datetime):
        self.setup = selectors.TerritorySetup(now=now)
        self.user_ids = self.setup.user_ids

    def facts(self, *, assigned: dict[int, int]) -> list[rules.TerritoryFacts]:
        return self.setup.facts(assigned=assigned)

    def named_owner_id(self, lead: TesterLead) -> int | None:
        return lead.facts.named_owner_id


@dataclass
class Outcome:
    decision: rules.Decision
    who: str  # the rep's name or the queue's label


@dataclass
class Simulation:
    outcomes: list[Outcome] = field(default_factory=list)
    spread: Counter = field(default_factory=Counter)  # who -> leads


QUEUE_LABELS = {
    rules.QUEUE_NURTURE: "Nurture queue",
    rules.QUEUE_OVERFLOW: "Overflow queue",
    rules.QUEUE_GENERALIST: "Generalist queue",
}


def _names(user_ids) -> dict[int, str]:
    return {
        user.pk: user.get_full_name() or user.get_username()
        for user in get_user_model().objects.filter(pk__in=[u for u in user_ids if u])
    }


def simulate(setup, leads: list[TesterLead], *, now: datetime) -> Simulation:
    """Route the leads one after the other against this set-up and this month's counts; writes nothing."""
    named_ids = {setup.named_owner_id(lead) for lead in leads} - {None}
    assigned = selectors.monthly_loads(user_ids=[*setup.user_ids, *named_ids], month=selectors.month_of(now.date()))
    owners = selectors.named_owner_facts(user_ids=named_ids, today=now.date()) if named_ids else {}
    territories = setup.facts(assigned=assigned)
    decisions = []
    for lead in leads:
        owner_id = setup.named_owner_id(lead)
        facts = replace(lead.facts, named_owner_id=owner_id)
        decision = rules.route(lead=facts, territories=territories, now=now, named_owner=owners.get(owner_id))
        if decision.assignee_id is not None:
            assigned[decision.assignee_id] = assigned.get(decision.assignee_id, 0) + 1
            territories = setup.facts(assigned=assigned)
        decisions.append(decision)
    names = _names({d.assignee_id for d in decisions} | {d.queue_owner_id for d in decisions})
    result = Simulation()
    for decision in decisions:
        if decision.assignee_id is not None:
            who = names.get(decision.assignee_id, f"user {decision.assignee_id}")
        else:
            owner = names.get(decision.queue_owner_id)
            who = QUEUE_LABELS.get(decision.queue, decision.queue) + (f" ({owner})" if owner else "")
        result.outcomes.append(Outcome(decision, who))
        result.spread[who] += 1
    return result


@dataclass
class Comparison:
    leads: list[TesterLead]
    published: Simulation
    draft: Simulation

    @property
    def rows(self):
        return [
            {"lead": lead, "published": p, "draft": d, "changed": p.who != d.who}
            for lead, p, d in zip(self.leads, self.published.outcomes, self.draft.outcomes, strict=True)
        ]

    @property
    def rows_changed_first(self):
        """The leads the draft sends elsewhere first, then the others, each in batch order."""
        rows = self.rows
        return [r for r in rows if r["changed"]] + [r for r in rows if not r["changed"]]

    @property
    def spread_rows(self):
        everyone = set(self.published.spread) | set(self.draft.spread)
        rows = [
            {"who": who, "published": self.published.spread[who], "draft": self.draft.spread[who]} for who in everyone
        ]
        for row in rows:
            row["change"] = row["draft"] - row["published"]
        return sorted(rows, key=lambda r: (-r["draft"], -r["published"], r["who"]))

    @property
    def changed(self) -> int:
        return sum(1 for row in self.rows if row["changed"])


def compare(spec: dict, leads: list[TesterLead], *, now: datetime) -> Comparison:
    return Comparison(
        leads=leads,
        published=simulate(PublishedSetup(now=now), leads, now=now),
        draft=simulate(DraftSetup(spec, now=now), leads, now=now),
    )


# --- the leads to try --------------------------------------------------------------------------------------------


def leads_from_ids(lead_ids) -> list[TesterLead]:
    lead_ids = list(lead_ids)[:MAX_BATCH]
    facts = selectors.lead_facts_many(lead_ids=lead_ids)
    rows = Lead.objects.filter(pk__in=lead_ids).values_list("pk", "account_id", "first_name", "last_name", "email")
    info = {pk: (account_id, f"{first} {last}".strip() or email) for pk, account_id, first, last, email in rows}
    return [
        TesterLead(label=info[pk][1], facts=facts[pk], account_id=info[pk][0], lead_id=pk)
        for pk in lead_ids
        if pk in facts
    ]


def described_lead(
    *,
    now: datetime,
    country: str = "",
    region: str = "",
    industry: str = "",
    employees: int | None = None,
    revenue: Decimal | None = None,
    score: int | None = None,
    fit: int | None = None,
    temperature: str = "",
    signal_days_ago: int | None = None,
    account: Account | None = None,
    label: str = "Described lead",
) -> TesterLead:
    return TesterLead(
        label=label,
        facts=rules.LeadFacts(
            lead_id=0,
            score=score,
            fit=fit,
            temperature=temperature,
            segment=segment_for(employees=employees, annual_revenue=revenue),
            country=country,
            region=region,
            industry=industry,
            employees=employees,
            revenue=revenue,
            last_signal_at=None if signal_days_ago is None else now - timedelta(days=signal_days_ago),
            named_owner_id=account.named_account_owner_id if account else None,
        ),
        account_id=account.pk if account else None,
    )


def leads_from_file(parsed, *, now: datetime, score: int, fit: int, temperature: str, signal_days_ago: int):
    """The rows of an import file (leadops.imports parsing, nothing imported): a row whose e-mail is a known lead
    is tried with that lead's facts; any other with its own firmographics and the assumed score, fit and signal."""
    rows = parsed.rows[:MAX_BATCH]
    known = dict(Lead.objects.filter(email__in=[r.email for r in rows]).values_list("email", "pk"))
    existing = {lead.lead_id: lead for lead in leads_from_ids(known.values())}
    domains = {a.domain: a for a in Account.objects.filter(domain__in=[r.domain for r in rows if r.domain])}
    leads = []
    for row in rows:
        if row.email in known and known[row.email] in existing:
            lead = existing[known[row.email]]
            leads.append(replace(lead, label=f"{row.email} (line {row.line}, known lead)"))
            continue
        account = domains.get(row.domain) if row.domain else None
        leads.append(
            described_lead(
                now=now,
                country=row.country or (account.country if account else ""),
                region=account.region if account else "",
                industry=row.industry or (account.industry if account else ""),
                employees=row.employees if row.employees is not None else (account.employees if account else None),
                revenue=row.annual_revenue
                if row.annual_revenue is not None
                else (account.annual_revenue if account else None),
                score=score,
                fit=fit,
                temperature=temperature,
                signal_days_ago=signal_days_ago,
                account=account,
                label=f"{row.email} (line {row.line})",
            )
        )
    return leads
