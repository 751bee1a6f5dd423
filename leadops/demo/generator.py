"""Generate the demo world as plain rows, deterministically from a seed and an anchor date.

No database access here: the caller passes the people (with their user ids) and the first free ids, and gets back
named tuples whose field names are the model columns (writer.py inserts them). Randomness comes from one
random.Random(seed) and from Faker instances seeded from the same seed, so the same seed and anchor always give the
same world. Leads come out in chunks so that 100,000 leads never sit in memory at once.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from faker import Faker

from leadops import rules
from leadops.demo import catalog
from leadops.demo.journey import Journey, LeadFacts, StaffMember, TeamStaff, stage_timestamps
from leadops.demo.rows import (
    AccountRow,
    ActivityRow,
    EventRow,
    IntentRow,
    LeadChunk,
    LeadRow,
    OpportunityRow,
    TransitionRow,
)
from leadops.demo.timeline import DAY, poisson, to_datetime

HISTORY_DAYS = 548  # 18 months before the anchor
SEED_DEMO_ACTOR = "seed_demo"
# Share of leads the negative rules catch; the rest are ordinary business contacts.
PERSON_KINDS = (("regular", 94.2), ("personal", 3.5), ("student", 1.5), ("competitor", 0.8))
# More leads per month towards the anchor: marketing grew. The monthly volume rises linearly to 1 + LEAD_GROWTH times
# its start (four times), so the last weeks hold enough active buyers for the queues, the SQLs and the recent deals.
LEAD_GROWTH = 3.0
NAME_POOL_SIZE = 200


@dataclass
class AccountDraft:
    id: int
    name: str
    domain: str
    industry: catalog.Industry
    employees: int | None
    revenue: int | None
    country: catalog.Country
    team: TeamStaff
    segment: str
    named_owner: StaffMember | None
    created_ts: int
    fit_points: float
    fit_criteria: int  # how many of the research's account criteria it meets (industry, revenue, head count)


_MEETING_NOTES = (
    "Discovery call: current process, stakeholders and timeline reviewed",
    "Demo of scoring and routing for the sales team",
    "Pricing walkthrough with finance",
    "Technical deep dive: CRM integration and SSO",
)


@cache
def faker_for(locale: str) -> Faker:
    # Building a Faker costs ~50 ms per locale; reuse it and re-seed it for every world instead.
    return Faker(locale)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Müller & Söhne' -> 'mullersohne'."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


class WorldGenerator:
    def __init__(
        self,
        *,
        seed: int,
        anchor: date,
        lead_count: int,
        teams: dict[str, TeamStaff],
        first_account_id: int = 1,
        first_lead_id: int = 1,
        taken_domains: frozenset[str] = frozenset(),
    ):
        self.rng = random.Random(seed)
        self.seed = seed
        self.lead_count = lead_count
        self.teams = teams
        self.anchor_ts = int(datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC).timestamp())
        self.history_start_ts = self.anchor_ts - HISTORY_DAYS * DAY
        self.next_account_id = first_account_id
        self.next_lead_id = first_lead_id
        self.domains_taken = set(taken_domains)
        self.emails_taken: set[str] = set()
        self.name_pools = self._name_pools()
        self.accounts: list[AccountDraft] = []
        self.competitor_accounts: list[AccountDraft] = []
        self._account_cum_weights: list[float] = []

    # --- accounts ---------------------------------------------------------------------------------------------

    def build_accounts(self) -> list[AccountRow]:
        """Companies in the three territories (about one per five leads), plus the competitors' own accounts."""
        rng = self.rng
        account_count = max(30, self.lead_count // 5)
        territory_weights = [territory.lead_share for territory in catalog.TERRITORIES]
        industry_weights = [industry.weight for industry in catalog.INDUSTRIES]
        segment_weights = [weight for _, weight, _, _ in catalog.SEGMENT_MIX]
        for _ in range(account_count):
            territory = rng.choices(catalog.TERRITORIES, weights=territory_weights)[0]
            country = rng.choices(territory.countries, weights=[c.weight for c in territory.countries])[0]
            industry = rng.choices(catalog.INDUSTRIES, weights=industry_weights)[0]
            segment_name, _, low, high = rng.choices(catalog.SEGMENT_MIX, weights=segment_weights)[0]
            self.accounts.append(self._account(territory.key, country, industry, segment_name, low, high))
        software = next(industry for industry in catalog.INDUSTRIES if industry.name == "Software")
        us = catalog.TERRITORIES[0].countries[0]
        for name, domain, employees in catalog.COMPETITORS:
            account = self._account("na", us, software, "", employees, employees, name=name, domain=domain)
            self.competitor_accounts.append(account)
        weights = [
            catalog.LEADS_PER_ACCOUNT_WEIGHT[account.segment] * math.exp(rng.gauss(0.0, 0.6))
            for account in self.accounts
        ]
        running = 0.0
        for weight in weights:
            running += weight
            self._account_cum_weights.append(running)
        return [self._account_row(account) for account in self.accounts + self.competitor_accounts]

    def _account(self, territory_key, country, industry, segment_name, low, high, *, name="", domain=""):
        rng = self.rng
        team = self.teams[territory_key]
        revenue = None
        if rng.random() < 0.08 and segment_name:
            # Head count unknown: the revenue alone decides the segment (leadops.rules.segment_for).
            employees = None
            revenue_bands = {"smb": (1e6, 5e7), "mid_market": (5e7, 1e9), "enterprise": (1e9, 2e10)}
            revenue_low, revenue_high = revenue_bands[segment_name]
            revenue = round(math.exp(rng.uniform(math.log(revenue_low), math.log(revenue_high))), -4)
        else:
            employees = round(math.exp(rng.uniform(math.log(low), math.log(high + 1)))) if low != high else low
            employees = min(max(employees, low), high)
            if rng.random() < 0.9:
                per_employee = industry.revenue_per_employee * math.exp(rng.gauss(0.0, 0.45))
                revenue = round(employees * per_employee, -4)
        if not name:
            name, domain = self._company_name(country, industry)
        else:
            self.domains_taken.add(domain)
        segment = rules.segment_for(
            employees=employees, annual_revenue=Decimal(revenue) if revenue is not None else None
        )
        named_owner = None
        if segment == rules.Segment.ENTERPRISE and segment_name and rng.random() < 0.3:
            named_owner = rng.choice(team.aes)
        fit = 1.0 if industry.is_target else -0.6
        criteria = int(industry.is_target)
        if revenue is not None and catalog.FIT_REVENUE_MIN <= revenue <= catalog.FIT_REVENUE_MAX:
            fit += 0.6
            criteria += 1
        if employees is not None and catalog.FIT_EMPLOYEES_MIN <= employees <= catalog.FIT_EMPLOYEES_MAX:
            fit += 0.6
            criteria += 1
        account = AccountDraft(
            id=self.next_account_id,
            name=name,
            domain=domain,
            industry=industry,
            employees=employees,
            revenue=revenue,
            country=country,
            team=team,
            segment=segment,
            named_owner=named_owner,
            # In the CRM before the window opens, so no lead predates its account.
            created_ts=self.history_start_ts - int(rng.random() * 365) * DAY,
            fit_points=fit,
            fit_criteria=criteria,
        )
        self.next_account_id += 1
        return account

    def _company_name(self, country: catalog.Country, industry: catalog.Industry) -> tuple[str, str]:
        rng = self.rng
        _, last_names = self.name_pools[country.faker_locale]
        founder = rng.choice(last_names)
        word = rng.choice(industry.name_words)
        shape = rng.random()
        if shape < 0.5:
            core = f"{founder} {word}"
        elif shape < 0.7:
            core = f"{founder} & {rng.choice(last_names)}"
        elif shape < 0.85:
            core = f"{founder}{word.lower()}" if len(founder) + len(word) < 14 else f"{founder} {word}"
        else:
            core = f"{rng.choice(('North', 'Blue', 'Summit', 'Bright', 'Iron', 'Silver', 'Harbor'))} {word}"
        suffix = rng.choice(country.legal_suffixes)
        name = f"{core} {suffix}".strip()
        base = ascii_slug(core) or "company"
        domain = f"{base}.{country.tld}"
        attempt = 1
        while domain in self.domains_taken:
            attempt += 1
            domain = f"{base}{attempt}.{country.tld}"
        self.domains_taken.add(domain)
        return name, domain

    def _account_row(self, account: AccountDraft) -> AccountRow:
        return AccountRow(
            id=account.id,
            name=account.name,
            domain=account.domain,
            industry=account.industry.name,
            employees=account.employees,
            annual_revenue=Decimal(account.revenue) if account.revenue is not None else None,
            country=account.country.name,
            region=account.team.territory.region,
            named_account_owner_id=account.named_owner.user_id if account.named_owner else None,
            created_at=to_datetime(account.created_ts),
        )

    def background_intent(self) -> list[IntentRow]:
        """Low-level third-party research on every account over the whole window (rarely a surge by chance)."""
        rng = self.rng
        window = self.anchor_ts - self.history_start_ts
        rows = []
        for account in self.accounts:
            for _ in range(poisson(rng, 1.5)):
                surge = 70 + int(rng.random() * 20) if rng.random() < 0.03 else 5 + int(rng.random() * 60)
                rows.append(
                    IntentRow(
                        account_id=account.id,
                        lead_id=None,
                        topic=rng.choice(catalog.INTENT_TOPICS),
                        surge_score=surge,
                        source=rng.choice(catalog.INTENT_PROVIDERS),
                        observed_at=to_datetime(self.history_start_ts + int(rng.random() * window)),
                    )
                )
        return rows

    # --- leads ------------------------------------------------------------------------------------------------

    def lead_chunks(self, chunk_size: int = 2000) -> Iterator[LeadChunk]:
        if not self.accounts:
            raise RuntimeError("build_accounts() first: leads belong to accounts.")
        chunk = LeadChunk()
        for _ in range(self.lead_count):
            self._add_lead(chunk)
            if len(chunk.leads) >= chunk_size:
                yield chunk
                chunk = LeadChunk()
        if chunk.leads:
            yield chunk

    def _add_lead(self, chunk: LeadChunk) -> None:
        rng = self.rng
        lead_id = self.next_lead_id
        self.next_lead_id += 1
        kind = rng.choices(PERSON_KINDS, weights=[weight for _, weight in PERSON_KINDS])[0][0]
        account = None
        if kind == "regular":
            account = rng.choices(self.accounts, cum_weights=self._account_cum_weights)[0]
        elif kind == "competitor":
            account = rng.choice(self.competitor_accounts)
        if account is not None:
            team, country = account.team, account.country
        else:
            territory = rng.choices(catalog.TERRITORIES, weights=[t.lead_share for t in catalog.TERRITORIES])[0]
            team = self.teams[territory.key]
            country = rng.choices(territory.countries, weights=[c.weight for c in territory.countries])[0]

        first_names, last_names = self.name_pools[country.faker_locale]
        first_name, last_name = rng.choice(first_names), rng.choice(last_names)
        if kind == "student":
            title = rng.choice(catalog.STUDENT_TITLES)
        else:
            bands = catalog.TITLES_BY_BAND
            band = rng.choices(list(bands), weights=[weight for weight, _ in bands.values()])[0]
            title = rng.choice(bands[band][1])
        seniority = rules.seniority_for_title(title)
        if kind == "personal":
            domain = rng.choice(catalog.PERSONAL_EMAIL_DOMAINS)
        elif kind == "student":
            domain = rng.choice(catalog.UNIVERSITY_DOMAINS if rng.random() < 0.6 else catalog.PERSONAL_EMAIL_DOMAINS)
        else:
            domain = account.domain
        email = self._unique_email(first_name, last_name, domain)

        # Linear growth of lead volume across the window (inverse of the CDF of a linearly rising density).
        u = rng.random()
        position = (-1 + math.sqrt(1 + LEAD_GROWTH * (2 + LEAD_GROWTH) * u)) / LEAD_GROWTH
        created_ts = self.history_start_ts + int(position * (self.anchor_ts - self.history_start_ts - 60))

        if kind == "regular":
            source = rng.choices(catalog.LEAD_SOURCES, weights=[weight for _, weight in catalog.LEAD_SOURCES])[0][0]
        else:
            source = rng.choice(("web", "organic_search", "content", "webinar", "social"))
        consent = rng.random() < (0.85 if source in catalog.INBOUND_SOURCES else 0.2)

        fit_points = account.fit_points if kind == "regular" else 0.0
        fit_criteria = account.fit_criteria if kind == "regular" else 0
        if seniority in (rules.Seniority.C_LEVEL, rules.Seniority.VP):
            fit_points += 1.0
            fit_criteria += 1
        elif seniority == rules.Seniority.DIRECTOR:
            fit_points += 0.4
            fit_criteria += 1
        facts = LeadFacts(
            created_ts=created_ts,
            team=team,
            segment=account.segment if account else rules.Segment.SMB,
            fit_points=fit_points,
            fit_criteria=fit_criteria,
            # People at well-fitting companies are somewhat more interested in the first place.
            interest=rng.gauss(0.0, 1.0) + 0.35 * (fit_points - 1.2),
            noise=rng.gauss(0.0, 0.5),
            seniority=seniority,
            employees=account.employees if account else None,
            source=source,
            consent=consent,
            kind=kind,
            is_target_industry=bool(account and account.industry.is_target and kind == "regular"),
            named_owner=account.named_owner if account else None,
        )
        journey = Journey(rng=rng, facts=facts, anchor_ts=self.anchor_ts, history_start_ts=self.history_start_ts)
        journey.run()
        self._emit_rows(chunk, lead_id, journey, account, country, first_name, last_name, email, title, seniority)

    def _emit_rows(self, chunk, lead_id, journey, account, country, first_name, last_name, email, title, seniority):
        rng, facts = self.rng, journey.facts
        stamps = stage_timestamps(journey.transitions)
        activity_times = [activity[0] for activity in journey.activities]
        first_activity = None
        if activity_times:
            since = journey.assigned_ts or 0
            after_assignment = [ts for ts in activity_times if ts >= since]
            first_activity = min(after_assignment) if after_assignment else None
        last_activity = max(activity_times) if activity_times else None
        stage_changed = journey.last_move_ts
        dt = to_datetime
        chunk.leads.append(
            LeadRow(
                id=lead_id,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=self._phone(country) if rng.random() < 0.8 else "",
                title=title,
                seniority=seniority,
                department=rules.department_for_title(title),
                country=country.name,
                account_id=account.id if account else None,
                source=facts.source,
                source_detail=self._source_detail(facts.source, facts.created_ts),
                external_id="",
                email_consent=facts.consent and journey.unsubscribed_ts is None,
                unsubscribed_at=dt(journey.unsubscribed_ts),
                stage=journey.stage,
                owner_id=journey.owner.user_id if journey.owner else None,
                temperature="",
                created_at=dt(facts.created_ts),
                updated_at=dt(max(stage_changed, last_activity or 0, journey.unsubscribed_ts or 0)),
                stage_changed_at=dt(stage_changed),
                lead_at=dt(stamps.get("lead_at")),
                mql_at=dt(stamps.get("mql_at")),
                sql_at=dt(stamps.get("sql_at")),
                assigned_at=dt(journey.assigned_ts),
                accepted_at=dt(stamps.get("accepted_at")),
                rejected_at=dt(stamps.get("rejected_at")),
                opportunity_at=dt(stamps.get("opportunity_at")),
                closed_at=dt(stamps.get("closed_at")),
                nurture_at=dt(stamps.get("nurture_at")),
                disqualified_at=dt(stamps.get("disqualified_at")),
                first_activity_at=dt(first_activity),
                last_activity_at=dt(last_activity),
            )
        )
        for ts, kind, properties in sorted(journey.events, key=lambda event: event[0]):
            # Tracking pipelines deliver within seconds to a couple of minutes.
            received = ts + 1 + int(rng.random() * 120)
            chunk.events.append(EventRow(lead_id, kind, dt(ts), properties, dt(received)))
        for from_stage, to_stage, ts, by_user_id, reason in journey.transitions:
            by_system = "" if by_user_id else SEED_DEMO_ACTOR
            chunk.transitions.append(
                TransitionRow(lead_id, from_stage, to_stage, by_user_id, by_system, reason, dt(ts))
            )
        for ts, rep_id, kind, duration, outcome in sorted(journey.activities):
            notes = rng.choice(_MEETING_NOTES) if kind == "meeting" else ""
            chunk.activities.append(ActivityRow(lead_id, rep_id, kind, dt(ts), duration, outcome, notes))
        if account is not None:
            for observed, topic, surge, provider, with_lead in journey.intents:
                chunk.intents.append(
                    IntentRow(account.id, lead_id if with_lead else None, topic, surge, provider, dt(observed))
                )
            for created, owner, amount, stage, closed, loss_reason in journey.opportunities:
                product = catalog.PRODUCTS_BY_SEGMENT[facts.segment]
                chunk.opportunities.append(
                    OpportunityRow(
                        lead_id=lead_id,
                        account_id=account.id,
                        owner_id=owner.user_id,
                        name=f"{account.name} - {product}",
                        amount=Decimal(amount),
                        stage=stage,
                        created_at=dt(created),
                        closed_at=dt(closed),
                        loss_reason=loss_reason,
                    )
                )

    # --- people details ---------------------------------------------------------------------------------------

    def _name_pools(self) -> dict[str, tuple[list[str], list[str]]]:
        """Per locale, a pool of first and last names drawn once from Faker (a Faker call per lead is too slow)."""
        pools = {}
        locales = sorted({country.faker_locale for t in catalog.TERRITORIES for country in t.countries})
        for locale in locales:
            faker = faker_for(locale)
            faker.seed_instance(f"{self.seed}:{locale}")
            first_names = [faker.first_name() for _ in range(NAME_POOL_SIZE)]
            last_names = [faker.last_name() for _ in range(NAME_POOL_SIZE)]
            pools[locale] = (first_names, last_names)
        return pools

    def _unique_email(self, first_name: str, last_name: str, domain: str) -> str:
        first, last = ascii_slug(first_name) or "info", ascii_slug(last_name) or "contact"
        shape = self.rng.random()
        if shape < 0.55:
            local = f"{first}.{last}"
        elif shape < 0.75:
            local = f"{first[0]}{last}"
        elif shape < 0.85:
            local = f"{first}{last[0]}"
        elif shape < 0.93:
            local = f"{first}_{last}"
        else:
            local = first
        email = f"{local}@{domain}"
        number = 1
        while email in self.emails_taken:
            number += 1
            email = f"{local}{number}@{domain}"
        self.emails_taken.add(email)
        return email

    def _phone(self, country: catalog.Country) -> str:
        digits = f"{int(self.rng.random() * 10**10):010d}"
        return f"{country.phone_prefix} {digits[:3]} {digits[3:6]} {digits[6:]}"

    def _source_detail(self, source: str, created_ts: int) -> str:
        created = to_datetime(created_ts)
        quarter = f"{created.year} Q{(created.month - 1) // 3 + 1}"
        rng = self.rng
        details = {
            "web": "Website form",
            "organic_search": "Google organic",
            "paid_search": f"Google Ads: lead scoring {quarter}",
            "social": rng.choice(("LinkedIn", "LinkedIn Ads", "X")),
            "email": f"Newsletter {quarter}",
            "webinar": f"Webinar series {quarter}",
            "event": f"{rng.choice(catalog.TRADE_SHOWS)} {created.year}",
            "content": "Content syndication: TechTarget",
            "referral": "Customer referral",
            "partner": rng.choice(catalog.PARTNERS),
            "outbound": "SDR prospecting",
            "list_import": f"Trade show list {quarter}",
        }
        return details.get(source, "")


def anchor_bounds(anchor: date) -> tuple[datetime, datetime]:
    """The window the demo history covers: 18 months up to midnight (UTC) at the start of the anchor day."""
    end = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC)
    return end - timedelta(days=HISTORY_DAYS), end
