"""Pure decisions of the core domain: the lead lifecycle, segments, seniority.

No ORM, no settings, no clock: plain values in, a result with its reason out (see STYLE.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal


class Stage:
    NEW = "new"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    ACCEPTED = "accepted"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    REJECTED = "rejected"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"

    CHOICES = [
        (NEW, "New"),
        (LEAD, "Lead"),
        (MQL, "MQL"),
        (SQL, "SQL"),
        (ACCEPTED, "Accepted (SAL)"),
        (OPPORTUNITY, "Opportunity"),
        (WON, "Won"),
        (LOST, "Lost"),
        (REJECTED, "Rejected"),
        (NURTURE, "Nurture"),
        (DISQUALIFIED, "Disqualified"),
    ]
    ALL = [value for value, _ in CHOICES]
    LABELS = dict(CHOICES)


# The legal moves (DESIGN.md section 1). Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.LEAD, Stage.MQL, Stage.DISQUALIFIED}),
    Stage.LEAD: frozenset({Stage.MQL, Stage.NURTURE, Stage.DISQUALIFIED}),
    # An MQL can fall back to nurture when its score decays below the cut-off.
    Stage.MQL: frozenset({Stage.SQL, Stage.NURTURE, Stage.DISQUALIFIED}),
    Stage.SQL: frozenset({Stage.ACCEPTED, Stage.REJECTED, Stage.DISQUALIFIED}),
    # An AE who sends an SAL back rejects it with a reason, which puts it in front of the SDR's manager.
    # The AE may also return it to the SDR who accepted it (back to SQL, with a reason) to be worked further.
    Stage.ACCEPTED: frozenset({Stage.OPPORTUNITY, Stage.REJECTED, Stage.SQL}),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST}),
    Stage.REJECTED: frozenset({Stage.NURTURE, Stage.DISQUALIFIED}),
    # Re-scored nurture leads come back as MQLs.
    Stage.NURTURE: frozenset({Stage.MQL, Stage.DISQUALIFIED}),
    # Lost deals are recycled into nurture rather than forgotten.
    Stage.LOST: frozenset({Stage.NURTURE}),
    Stage.WON: frozenset(),
    # Bad data that was fixed, or a disqualification made by mistake, is reinstated as a plain lead.
    Stage.DISQUALIFIED: frozenset({Stage.LEAD}),
}

# Moves that must say why: the KPIs report rejection and loss reasons, and a disqualification has to be explainable.
REASON_REQUIRED: frozenset[str] = frozenset({Stage.REJECTED, Stage.DISQUALIFIED, Stage.LOST})

# Timestamp field on Lead set when a lead enters the stage (the KPIs and SLA clocks are computed from them).
STAGE_TIMESTAMP_FIELD: dict[str, str] = {
    Stage.LEAD: "lead_at",
    Stage.MQL: "mql_at",
    Stage.SQL: "sql_at",
    Stage.ACCEPTED: "accepted_at",
    Stage.OPPORTUNITY: "opportunity_at",
    Stage.WON: "closed_at",
    Stage.LOST: "closed_at",
    Stage.REJECTED: "rejected_at",
    Stage.NURTURE: "nurture_at",
    Stage.DISQUALIFIED: "disqualified_at",
}


class IllegalTransition(ValueError):
    """A lifecycle move that is not allowed; the message says why and what is allowed instead."""


@dataclass(frozen=True)
class TransitionCheck:
    allowed: bool
    reason: str


def target_check(*, to_stage: str, reason: str = "") -> TransitionCheck:
    """What can be said about a move knowing only where it goes (the set-based form checks sources per lead)."""
    if to_stage not in TRANSITIONS:
        return TransitionCheck(False, f"'{to_stage}' is not a lifecycle stage.")
    if to_stage in REASON_REQUIRED and not reason.strip():
        return TransitionCheck(False, f"Moving a lead to {Stage.LABELS[to_stage]} needs a reason.")
    return TransitionCheck(True, f"-> {Stage.LABELS[to_stage]}")


def transition_check(*, from_stage: str, to_stage: str, reason: str = "") -> TransitionCheck:
    if to_stage not in TRANSITIONS:
        return TransitionCheck(False, f"'{to_stage}' is not a lifecycle stage.")
    if from_stage not in TRANSITIONS:
        return TransitionCheck(False, f"'{from_stage}' is not a lifecycle stage.")
    if from_stage == to_stage:
        return TransitionCheck(False, f"The lead is already {Stage.LABELS[to_stage]}.")
    allowed = TRANSITIONS[from_stage]
    if to_stage not in allowed:
        if allowed:
            options = ", ".join(Stage.LABELS[s] for s in Stage.ALL if s in allowed)
            hint = f"from {Stage.LABELS[from_stage]} a lead can move to: {options}"
        else:
            hint = f"{Stage.LABELS[from_stage]} is final"
        return TransitionCheck(
            False, f"A lead cannot move from {Stage.LABELS[from_stage]} to {Stage.LABELS[to_stage]}; {hint}."
        )
    if to_stage in REASON_REQUIRED and not reason.strip():
        return TransitionCheck(False, f"Moving a lead to {Stage.LABELS[to_stage]} needs a reason.")
    return TransitionCheck(True, f"{Stage.LABELS[from_stage]} -> {Stage.LABELS[to_stage]}")


def legal_sources(to_stage: str) -> frozenset[str]:
    """Every stage from which a lead may move to `to_stage` (used by the set-based form)."""
    return frozenset(src for src, targets in TRANSITIONS.items() if to_stage in targets)


# --- score tiers ----------------------------------------------------------------------------------------------


class ScoreTier:
    """What a lead's score says it is; the scoring engine decides it, the core stores and shows it.

    Kept here so the Lead model, the pages and the engine (scoring.rules) share one vocabulary.
    """

    DISQUALIFIED = "disqualified"
    SQL = "sql"
    BORDERLINE = "borderline"
    MQL = "mql"
    BELOW_MQL = "below_mql"
    CHOICES = [
        (DISQUALIFIED, "Disqualified"),
        (SQL, "SQL"),
        (BORDERLINE, "Borderline (manager review)"),
        (MQL, "MQL"),
        (BELOW_MQL, "Below MQL"),
    ]
    ALL = [value for value, _ in CHOICES]
    LABELS = dict(CHOICES)


# How far along the lifecycle each tier puts a lead, and each stage is: a stage ahead of its tier means sales owns
# the lead now (or a manager promoted it), which pages must say in words rather than show a contradiction.
_TIER_RANK = {ScoreTier.BELOW_MQL: 1, ScoreTier.MQL: 2, ScoreTier.BORDERLINE: 2, ScoreTier.SQL: 3}
_STAGE_RANK = {
    Stage.NEW: 0,
    Stage.LEAD: 1,
    Stage.NURTURE: 1,
    Stage.MQL: 2,
    Stage.SQL: 3,
    Stage.ACCEPTED: 4,
    Stage.OPPORTUNITY: 5,
    Stage.WON: 6,
    Stage.LOST: 6,
    Stage.REJECTED: 3,
}


def stage_versus_tier(*, stage: str, tier: str) -> str:
    """Why a lead's stage and its score tier differ, in words; '' when they agree or nothing needs saying."""
    if not tier or stage == Stage.DISQUALIFIED or tier == ScoreTier.DISQUALIFIED:
        return ""
    stage_rank, tier_rank = _STAGE_RANK.get(stage), _TIER_RANK.get(tier)
    if stage_rank is None or tier_rank is None or stage_rank <= tier_rank:
        return ""
    label = ScoreTier.LABELS[tier]
    if stage == Stage.SQL:
        return (
            f"Sales-qualified earlier; today's score alone would make it {label}. It stays an SQL until a rep "
            "accepts or rejects it: a score that drops does not take a lead away from sales."
        )
    if stage == Stage.REJECTED:
        return f"Rejected by sales; today's score makes it {label}. It goes to nurture, not back to the queue."
    return (
        f"Sales owns this lead now ({Stage.LABELS[stage]}); the score is kept for reporting and is {label} today. "
        "Scores move leads only until sales takes them."
    )


# --- segments -------------------------------------------------------------------------------------------------


class Segment:
    SMB = "smb"
    MID_MARKET = "mid_market"
    ENTERPRISE = "enterprise"
    CHOICES = [(SMB, "SMB"), (MID_MARKET, "Mid-Market"), (ENTERPRISE, "Enterprise")]
    LABELS = dict(CHOICES)


# Segment bands by employee count (the common Gartner-style split): SMB 1-99, Mid-Market 100-999, Enterprise 1000+.
# When the head count is unknown the annual revenue decides: SMB < $50M, Mid-Market $50M-$1B, Enterprise >= $1B.
# With neither known a company counts as SMB until the data says otherwise.
MID_MARKET_MIN_EMPLOYEES = 100
ENTERPRISE_MIN_EMPLOYEES = 1000
MID_MARKET_MIN_REVENUE = Decimal("50000000")
ENTERPRISE_MIN_REVENUE = Decimal("1000000000")


def segment_for(*, employees: int | None, annual_revenue: Decimal | None) -> str:
    if employees is not None:
        if employees >= ENTERPRISE_MIN_EMPLOYEES:
            return Segment.ENTERPRISE
        if employees >= MID_MARKET_MIN_EMPLOYEES:
            return Segment.MID_MARKET
        return Segment.SMB
    if annual_revenue is not None:
        if annual_revenue >= ENTERPRISE_MIN_REVENUE:
            return Segment.ENTERPRISE
        if annual_revenue >= MID_MARKET_MIN_REVENUE:
            return Segment.MID_MARKET
    return Segment.SMB


# --- people ---------------------------------------------------------------------------------------------------


class Seniority:
    C_LEVEL = "c_level"
    VP = "vp"
    DIRECTOR = "director"
    MANAGER = "manager"
    INDIVIDUAL = "individual"
    STUDENT = "student"
    UNKNOWN = "unknown"
    CHOICES = [
        (C_LEVEL, "C-level"),
        (VP, "VP"),
        (DIRECTOR, "Director"),
        (MANAGER, "Manager"),
        (INDIVIDUAL, "Individual contributor"),
        (STUDENT, "Student"),
        (UNKNOWN, "Unknown"),
    ]


# Checked in order: "VP of Engineering Manager" is a VP, "Assistant to the CEO" is not a C-level.
_SENIORITY_PATTERNS: list[tuple[str, re.Pattern]] = [
    (Seniority.STUDENT, re.compile(r"\b(student|intern|undergrad\w*|phd candidate)\b", re.I)),
    (Seniority.INDIVIDUAL, re.compile(r"\b(assistant|associate to|coordinator)\b", re.I)),
    (
        Seniority.C_LEVEL,
        re.compile(r"\b(c[eftiomr]o|chief|founder|co-founder|owner|(?<!vice[- ])president|managing director)\b", re.I),
    ),
    (Seniority.VP, re.compile(r"\b(vp|svp|evp|vice[- ]president|head of)\b", re.I)),
    (Seniority.DIRECTOR, re.compile(r"\b(director|dir\.)\b", re.I)),
    (Seniority.MANAGER, re.compile(r"\b(manager|mgr|lead|supervisor)\b", re.I)),
]


def seniority_for_title(title: str) -> str:
    if not title or not title.strip():
        return Seniority.UNKNOWN
    for seniority, pattern in _SENIORITY_PATTERNS:
        if pattern.search(title):
            return seniority
    return Seniority.INDIVIDUAL


class Department:
    CHOICES = [
        ("executive", "Executive"),
        ("sales", "Sales"),
        ("marketing", "Marketing"),
        ("it", "IT"),
        ("engineering", "Engineering"),
        ("finance", "Finance"),
        ("operations", "Operations"),
        ("hr", "HR"),
        ("other", "Other"),
    ]


_DEPARTMENT_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("it", re.compile(r"\b(it|information|cio|cto|infrastructure|systems|security|data)\b", re.I)),
    ("engineering", re.compile(r"\b(engineer\w*|developer|software|architect|devops|product)\b", re.I)),
    ("finance", re.compile(r"\b(finance|financial|cfo|controller|accounting|procurement|treasur\w*)\b", re.I)),
    ("marketing", re.compile(r"\b(marketing|cmo|brand|demand|growth|content|communications)\b", re.I)),
    ("sales", re.compile(r"\b(sales|revenue|cro|account executive|business development|commercial)\b", re.I)),
    ("operations", re.compile(r"\b(operations|coo|ops|supply|logistics|facilities)\b", re.I)),
    ("hr", re.compile(r"\b(hr|human resources|people|talent|recruit\w*)\b", re.I)),
    ("executive", re.compile(r"\b(ceo|founder|president|owner|managing director)\b", re.I)),
]


def department_for_title(title: str) -> str:
    for department, pattern in _DEPARTMENT_PATTERNS:
        if title and pattern.search(title):
            return department
    return "other"


# Free mailbox providers: a lead on one of these is a person, not a company domain to match accounts on.
PERSONAL_EMAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "protonmail.com",
        "proton.me",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "orange.fr",
        "free.fr",
        "libero.it",
        "t-online.de",
    }
)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def company_domain_for_email(email: str) -> str:
    """The e-mail's domain if it identifies a company, '' for free mailbox providers."""
    domain = email_domain(email)
    return "" if domain in PERSONAL_EMAIL_DOMAINS else domain
