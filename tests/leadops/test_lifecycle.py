"""The lifecycle service: legal moves recorded, illegal moves refused without a trace, bulk form, concurrency."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.db.utils import IntegrityError

from leadops import rules
from leadops.models import AuditEntry, Lead, StageTransition
from leadops.rules import IllegalTransition, Stage
from leadops.services import lead_transition, lead_transition_bulk
from tests.factories import LeadFactory

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]

LEGAL_MOVES = sorted((src, dst) for src, targets in rules.TRANSITIONS.items() for dst in targets)
ILLEGAL_MOVES = sorted((src, dst) for src in Stage.ALL for dst in Stage.ALL if dst not in rules.TRANSITIONS[src])
NOW = dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(("src", "dst"), LEGAL_MOVES)
def test_legal_move_is_recorded_with_actor_reason_and_timestamp(src, dst, sdr):
    lead = LeadFactory(stage=src)
    with time_machine.travel(NOW, tick=False):
        lead_transition(lead=lead, to=dst, by=sdr, reason="Spoke to them")
    lead.refresh_from_db()
    assert lead.stage == dst
    assert lead.stage_changed_at == NOW
    if field := rules.STAGE_TIMESTAMP_FIELD.get(dst):
        assert getattr(lead, field) == NOW
    transition = StageTransition.objects.get(lead=lead)
    assert (transition.from_stage, transition.to_stage, transition.by_user, transition.reason) == (
        src,
        dst,
        sdr,
        "Spoke to them",
    )
    audit = AuditEntry.objects.get(action="lead.transition", object_id=str(lead.pk))
    assert audit.actor == sdr and audit.changes == {"stage": [src, dst]}


@pytest.mark.parametrize(("src", "dst"), ILLEGAL_MOVES)
def test_illegal_move_raises_and_changes_nothing(src, dst, sdr):
    lead = LeadFactory(stage=src)
    before = Lead.objects.values().get(pk=lead.pk)
    with pytest.raises(IllegalTransition):
        lead_transition(lead=lead, to=dst, by=sdr, reason="x")
    assert Lead.objects.values().get(pk=lead.pk) == before
    assert not StageTransition.objects.exists()
    assert not AuditEntry.objects.exists()


def test_rejection_without_reason_is_refused(sdr):
    lead = LeadFactory(stage=Stage.SQL)
    with pytest.raises(IllegalTransition, match="needs a reason"):
        lead_transition(lead=lead, to=Stage.REJECTED, by=sdr, reason="")
    lead.refresh_from_db()
    assert lead.stage == Stage.SQL


def test_system_actor_is_recorded_by_name():
    lead = LeadFactory(stage=Stage.LEAD)
    lead_transition(lead=lead, to=Stage.MQL, by="scoring model v3", reason="score 57 >= 50")
    transition = StageTransition.objects.get(lead=lead)
    assert transition.by_user is None and transition.by_system == "scoring model v3"
    assert transition.actor_label == "scoring model v3"


def test_a_stale_view_cannot_overwrite_a_newer_move(sdr, ae):
    """Two people looking at the same SQL: the first accepts, the second's reject (made on the old page) loses."""
    lead = LeadFactory(stage=Stage.SQL)
    stale_copy = Lead.objects.get(pk=lead.pk)
    lead_transition(lead=lead, to=Stage.ACCEPTED, by=ae, expected_from=Stage.SQL)
    with pytest.raises(IllegalTransition, match="in the meantime"):
        lead_transition(lead=stale_copy, to=Stage.REJECTED, by=sdr, reason="Wrong persona", expected_from=Stage.SQL)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.ACCEPTED
    assert StageTransition.objects.filter(lead=lead).count() == 1


def test_bulk_moves_legal_leads_and_counts_the_rest():
    movable = LeadFactory.create_batch(5, stage=Stage.LEAD)
    nurture = LeadFactory.create_batch(2, stage=Stage.NURTURE)
    won = LeadFactory(stage=Stage.WON)
    with time_machine.travel(NOW, tick=False):
        result = lead_transition_bulk(
            lead_ids=[lead.pk for lead in movable + nurture + [won]],
            to=Stage.MQL,
            by="scoring model v1",
            reason="score crossed 50",
            chunk_size=3,
        )
    assert result.moved == 7 and result.skipped_by_stage == {Stage.WON: 1}
    assert set(Lead.objects.filter(stage=Stage.MQL).values_list("mql_at", flat=True)) == {NOW}
    assert StageTransition.objects.filter(to_stage=Stage.MQL, by_system="scoring model v1").count() == 7
    assert Lead.objects.get(pk=won.pk).stage == Stage.WON


def test_bulk_is_safe_to_run_twice():
    leads = LeadFactory.create_batch(3, stage=Stage.LEAD)
    ids = [lead.pk for lead in leads]
    lead_transition_bulk(lead_ids=ids, to=Stage.MQL, by="task", reason="")
    again = lead_transition_bulk(lead_ids=ids, to=Stage.MQL, by="task", reason="")
    assert again.moved == 0 and again.skipped == 3
    assert StageTransition.objects.count() == 3


def test_bulk_refuses_a_move_that_needs_a_reason_without_one():
    lead = LeadFactory(stage=Stage.SQL)
    with pytest.raises(IllegalTransition, match="needs a reason"):
        lead_transition_bulk(lead_ids=[lead.pk], to=Stage.DISQUALIFIED, by="task")
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SQL


def test_database_refuses_an_invalid_stage():
    lead = LeadFactory()
    with pytest.raises(IntegrityError):
        Lead.objects.filter(pk=lead.pk).update(stage="hot")


def test_database_refuses_a_second_lead_with_the_same_email():
    LeadFactory(email="ann@acme.example")
    with pytest.raises(IntegrityError):
        LeadFactory(email="ann@acme.example")


def test_database_refuses_a_negative_opportunity_amount():
    from tests.factories import OpportunityFactory

    with pytest.raises(IntegrityError):
        OpportunityFactory(amount=-1)


@pytest.mark.django_db(transaction=True)
def test_two_people_acting_at_once_cannot_both_win(sdr, ae):
    """Real concurrency (PostgreSQL row locks): two threads accept / reject the same SQL at the same moment."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers for the whole database; the row lock is what PostgreSQL needs")
    lead = LeadFactory(stage=Stage.SQL)
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user, to, reason):
        from django.db import connections

        barrier.wait()
        try:
            lead_transition(lead=Lead.objects.get(pk=lead.pk), to=to, by=user, reason=reason, expected_from=Stage.SQL)
            outcomes.append("ok")
        except IllegalTransition:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(ae, Stage.ACCEPTED, "")),
        threading.Thread(target=act, args=(sdr, Stage.REJECTED, "No budget")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert StageTransition.objects.filter(lead=lead).count() == 1
