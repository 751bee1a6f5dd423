"""The rows the generator produces: named tuples whose field names are the model attnames writer.py inserts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class AccountRow(NamedTuple):
    id: int
    name: str
    domain: str
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    country: str
    region: str
    named_account_owner_id: int | None
    created_at: datetime


class LeadRow(NamedTuple):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    seniority: str
    department: str
    country: str
    account_id: int | None
    source: str
    source_detail: str
    external_id: str
    email_consent: bool
    unsubscribed_at: datetime | None
    stage: str
    owner_id: int | None
    temperature: str
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime
    lead_at: datetime | None
    mql_at: datetime | None
    sql_at: datetime | None
    assigned_at: datetime | None
    accepted_at: datetime | None
    rejected_at: datetime | None
    opportunity_at: datetime | None
    closed_at: datetime | None
    nurture_at: datetime | None
    disqualified_at: datetime | None
    first_activity_at: datetime | None
    last_activity_at: datetime | None


class EventRow(NamedTuple):
    lead_id: int
    kind: str
    occurred_at: datetime
    properties: dict
    received_at: datetime


class TransitionRow(NamedTuple):
    lead_id: int
    from_stage: str
    to_stage: str
    by_user_id: int | None
    by_system: str
    reason: str
    at: datetime


class ActivityRow(NamedTuple):
    lead_id: int
    rep_id: int
    kind: str
    occurred_at: datetime
    duration_minutes: int | None
    outcome: str
    notes: str


class IntentRow(NamedTuple):
    account_id: int
    lead_id: int | None
    topic: str
    surge_score: int
    source: str
    observed_at: datetime


class OpportunityRow(NamedTuple):
    lead_id: int
    account_id: int
    owner_id: int
    name: str
    amount: Decimal
    stage: str
    created_at: datetime
    closed_at: datetime | None
    loss_reason: str


@dataclass
class LeadChunk:
    leads: list[LeadRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    transitions: list[TransitionRow] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)
    intents: list[IntentRow] = field(default_factory=list)
    opportunities: list[OpportunityRow] = field(default_factory=list)
