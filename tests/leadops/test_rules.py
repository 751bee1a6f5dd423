"""Pure lifecycle and classification rules: table-driven, no database."""

import itertools
from decimal import Decimal

import pytest

from leadops import rules
from leadops.rules import Segment, Seniority, Stage

LEGAL_MOVES = sorted((src, dst) for src, targets in rules.TRANSITIONS.items() for dst in targets)
ILLEGAL_MOVES = sorted((src, dst) for src in Stage.ALL for dst in Stage.ALL if dst not in rules.TRANSITIONS[src])


def test_the_lifecycle_of_the_design_is_legal():
    # The main path and the loops drawn in DESIGN.md section 1.
    path = [Stage.NEW, Stage.LEAD, Stage.MQL, Stage.SQL, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON]
    for src, dst in itertools.pairwise(path):
        assert (src, dst) in LEGAL_MOVES
    for src, dst in [
        (Stage.SQL, Stage.REJECTED),
        (Stage.REJECTED, Stage.NURTURE),
        (Stage.NURTURE, Stage.MQL),
        (Stage.MQL, Stage.DISQUALIFIED),
        (Stage.OPPORTUNITY, Stage.LOST),
    ]:
        assert (src, dst) in LEGAL_MOVES


@pytest.mark.parametrize(("src", "dst"), LEGAL_MOVES)
def test_every_legal_move_is_allowed_with_a_reason(src, dst):
    check = rules.transition_check(from_stage=src, to_stage=dst, reason="because")
    assert check.allowed, check.reason


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_MOVES)
def test_every_illegal_move_is_refused_with_a_message(src, dst):
    check = rules.transition_check(from_stage=src, to_stage=dst, reason="because")
    assert not check.allowed
    assert Stage.LABELS[src] in check.reason


@pytest.mark.parametrize("dst", sorted(rules.REASON_REQUIRED))
def test_rejection_disqualification_and_loss_need_a_reason(dst):
    src = next(iter(sorted(rules.legal_sources(dst))))
    check = rules.transition_check(from_stage=src, to_stage=dst, reason="  ")
    assert not check.allowed
    assert "needs a reason" in check.reason


def test_won_is_final():
    check = rules.transition_check(from_stage=Stage.WON, to_stage=Stage.NURTURE)
    assert not check.allowed and "final" in check.reason


def test_unknown_stage_is_refused():
    assert not rules.transition_check(from_stage=Stage.NEW, to_stage="hot").allowed
    assert not rules.target_check(to_stage="hot").allowed


@pytest.mark.parametrize(
    ("employees", "revenue", "segment"),
    [
        (1, None, Segment.SMB),
        (99, Decimal("5000000000"), Segment.SMB),  # head count decides when known
        (100, None, Segment.MID_MARKET),
        (999, None, Segment.MID_MARKET),
        (1000, None, Segment.ENTERPRISE),
        (None, Decimal("49999999"), Segment.SMB),
        (None, Decimal("50000000"), Segment.MID_MARKET),
        (None, Decimal("1000000000"), Segment.ENTERPRISE),
        (None, None, Segment.SMB),
    ],
)
def test_segment_bands(employees, revenue, segment):
    assert rules.segment_for(employees=employees, annual_revenue=revenue) == segment


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("CEO", Seniority.C_LEVEL),
        ("Chief Revenue Officer", Seniority.C_LEVEL),
        ("Co-Founder & CTO", Seniority.C_LEVEL),
        ("VP Sales", Seniority.VP),
        ("Vice President, Finance", Seniority.VP),
        ("Head of Operations", Seniority.VP),
        ("Director of IT", Seniority.DIRECTOR),
        ("Marketing Manager", Seniority.MANAGER),
        ("Executive Assistant to the CEO", Seniority.INDIVIDUAL),
        ("Software Engineer", Seniority.INDIVIDUAL),
        ("MBA Student", Seniority.STUDENT),
        ("", Seniority.UNKNOWN),
    ],
)
def test_seniority_from_title(title, seniority):
    assert rules.seniority_for_title(title) == seniority


@pytest.mark.parametrize(
    ("email", "domain"),
    [("Ann@Acme.com", "acme.com"), ("bob@gmail.com", ""), ("no-at-sign", "")],
)
def test_company_domain_ignores_free_mailboxes(email, domain):
    assert rules.company_domain_for_email(email) == domain
