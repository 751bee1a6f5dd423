"""The SDR queue page (/work/queue/): who sees which leads, in which order, filtered, searched, sorted, paged and
exported; what each row shows (top reason, clock) and offers (the actions the services allow). Expected values are
written out by hand on the German territory of tests/sla/conftest.py (sdr and gina) and a French one (other_sdr)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from handoff import selectors as handoff_selectors
from handoff import selectors_queue as queue
from leadops.models import Lead
from leadops.rules import Stage
from routing.models import RoutingDecision, Territory, TerritoryMember
from scoring.models import ScoringModelVersion, VersionStatus
from scoring.selectors import lead_score_explanation
from scoring.services import aggregates, scores
from sla.models import SlaClock
from tests.factories import AccountFactory, LeadFactory
from tests.sla.conftest import OFFICE

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
QUEUE = "/work/queue/"


# --- the world ------------------------------------------------------------------------------------------------------


@pytest.fixture
def france(other_sdr):
    return make_france(other_sdr)


def make_france(other_sdr):
    """The other team's territory, worked by other_sdr."""
    territory = Territory.objects.create(
        name="France", priority=2, countries=["FR"], team=other_sdr.profile.team, calendar=OFFICE
    )
    TerritoryMember.objects.create(territory=territory, user=other_sdr, role="specialist")
    return territory


def make_lead(name, *, owner=None, stage=Stage.SQL, score=60, temperature="warm", company="", employees=250, **fields):
    first, last = name.split(" ", 1)
    account = AccountFactory(name=company or f"{last} GmbH", employees=employees)
    return LeadFactory(
        first_name=first,
        last_name=last,
        owner=owner,
        stage=stage,
        score_total=score,
        temperature=temperature,
        account=account,
        **fields,
    )


def queued(lead, territory, *, at=NOW, assignee=None):
    """Routing placed the lead in the territory: in its overflow queue, or with `assignee`."""
    RoutingDecision.objects.create(
        lead=lead,
        territory=territory,
        assignee=assignee,
        queue="" if assignee else "overflow",
        path=["test"],
        reason="test",
        decided_at=at,
        by_system="routing",
        kind="manual",
    )
    return lead


def clock(lead, policy, *, owner, due, state="open", stopped=False):
    return SlaClock.objects.create(
        lead=lead,
        policy=policy,
        owner=owner,
        state=state,
        started_at=due - dt.timedelta(hours=1),
        due_at=due,
        stopped_at=due if stopped else None,
    )


def shown(response) -> list[str]:
    return [str(row.lead) for row in response.context["rows"]]


def get(client, user, **params):
    client.force_login(user)
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return response


# --- scope --------------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(germany, france, sdr, other_sdr, ae, policies):
    """Leads of every kind around the SDR."""
    leads = {
        "own_mql": make_lead("Mia Own", owner=sdr, stage=Stage.MQL),
        "own_sql": make_lead("Sam Own", owner=sdr),
        "own_accepted": make_lead("Ann Accepted", owner=sdr, stage=Stage.ACCEPTED),
        "own_nurture": make_lead("Nora Nurture", owner=sdr, stage=Stage.NURTURE),
        "others_sql": make_lead("Otto Other", owner=other_sdr),
        "germany_queue": queued(make_lead("Greta Waiting"), germany),
        "germany_mql_queue": queued(make_lead("Gus Waiting", stage=Stage.MQL), germany),
        "germany_nurture": queued(make_lead("Nils Parked", stage=Stage.NURTURE), germany),
        "france_queue": queued(make_lead("Fleur Waiting"), france),
        "no_territory": make_lead("Ned Nowhere"),
        "ae_accepted": make_lead("Abe Handed", owner=ae, stage=Stage.ACCEPTED),
        "ae_opportunity": make_lead("Opal Deal", owner=ae, stage=Stage.OPPORTUNITY),
    }
    return leads


def test_an_sdr_sees_their_working_leads_and_the_unowned_leads_of_their_territory_only(client, sdr, mixed):
    names = set(shown(get(client, sdr)))
    assert names == {"Mia Own", "Sam Own", "Greta Waiting", "Gus Waiting"}


def test_another_sdr_sees_none_of_the_first_sdrs_leads_nor_their_territorys_queue(client, other_sdr, mixed):
    assert set(shown(get(client, other_sdr))) == {"Otto Other", "Fleur Waiting"}


def test_an_ae_sees_their_accepted_leads_and_opportunities(client, ae, mixed):
    assert set(shown(get(client, ae))) == {"Abe Handed", "Opal Deal"}


def test_a_manager_sees_the_teams_queues_and_the_unowned_leads_of_the_teams_territories(client, manager, mixed):
    names = set(shown(get(client, manager)))
    # sdr's working leads (accepted included: a manager sees every working stage), the AE's, Germany's queue.
    assert names == {
        "Mia Own",
        "Sam Own",
        "Ann Accepted",
        "Greta Waiting",
        "Gus Waiting",
        "Abe Handed",
        "Opal Deal",
    }


def test_the_queue_territory_is_the_claim_services_territory(germany, france, sdr):
    """The SQL annotation and handoff.selectors.lead_territory name the same territory: the latest decision that
    names one (a later reassignment without a territory does not move the lead out of its queue)."""
    moved = queued(queued(make_lead("Moved Later"), germany, at=NOW), france, at=NOW + dt.timedelta(hours=1))
    reassigned = queued(make_lead("Kept Queue"), germany, at=NOW)
    RoutingDecision.objects.create(
        lead=reassigned, queue="overflow", path=["x"], reason="x", decided_at=NOW + dt.timedelta(hours=2), by_user=sdr
    )
    never = make_lead("Never Routed")
    annotated = dict(
        Lead.objects.annotate(t=queue.lead_territory_id())
        .filter(pk__in=[moved.pk, reassigned.pk, never.pk])
        .values_list("pk", "t")
    )
    assert annotated == {moved.pk: france.pk, reassigned.pk: germany.pk, never.pk: None}
    for lead in (moved, reassigned, never):
        territory = handoff_selectors.lead_territory(lead.pk)
        assert annotated[lead.pk] == (territory.pk if territory else None)


# --- order ------------------------------------------------------------------------------------------------------------


def test_default_order_is_sla_due_then_temperature_then_score(client, sdr, germany, policies):
    hot, cold = policies["contact-hot"], policies["contact-cold"]
    early = make_lead("Ada Early", owner=sdr, temperature="cold", score=40)
    clock(early, cold, owner=sdr, due=NOW + dt.timedelta(minutes=10))
    later = make_lead("Ben Later", owner=sdr, temperature="hot", score=90)
    clock(later, hot, owner=sdr, due=NOW + dt.timedelta(hours=2))
    breached = make_lead("Cy Breached", owner=sdr, temperature="warm", score=60)
    clock(breached, hot, owner=sdr, due=NOW - dt.timedelta(hours=1), state="breached")
    hot85 = make_lead("Dee Hot", owner=sdr, temperature="hot", score=85)
    clock(hot85, hot, owner=sdr, due=NOW - dt.timedelta(hours=5), state="met", stopped=True)  # stopped: no clock
    warm95 = make_lead("Eve Warm", owner=sdr, temperature="warm", score=95)
    clock(warm95, hot, owner=germany.gina, due=NOW - dt.timedelta(hours=9))  # gina's clock: not the owner's
    make_lead("Fay Hot", owner=sdr, temperature="hot", score=70)
    make_lead("Gil Unscored", owner=sdr, temperature="", score=None)
    make_lead("Hal Cold", owner=sdr, temperature="cold", score=99)

    assert shown(get(client, sdr)) == [
        "Cy Breached",
        "Ada Early",
        "Ben Later",
        "Dee Hot",
        "Fay Hot",
        "Eve Warm",
        "Hal Cold",
        "Gil Unscored",
    ]


@pytest.fixture
def sortable(sdr, germany):
    make_lead("Ada Zorn", owner=sdr, score=70, temperature="warm", company="Beta", last_activity_at=NOW)
    make_lead("Bob Young", owner=sdr, score=90, temperature="cold", company="Alpha")
    make_lead(
        "Cid Xavier",
        owner=sdr,
        score=50,
        temperature="hot",
        company="Gamma",
        stage=Stage.MQL,
        last_activity_at=NOW - dt.timedelta(days=3),
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
        ("score", ["Bob Young", "Ada Zorn", "Cid Xavier"]),
        ("-score", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
        ("name", ["Cid Xavier", "Bob Young", "Ada Zorn"]),
        ("-name", ["Ada Zorn", "Bob Young", "Cid Xavier"]),
        ("company", ["Bob Young", "Ada Zorn", "Cid Xavier"]),
        ("-company", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
        ("temperature", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
        ("-temperature", ["Bob Young", "Ada Zorn", "Cid Xavier"]),
        ("stage", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
        ("activity", ["Bob Young", "Cid Xavier", "Ada Zorn"]),
        ("-activity", ["Ada Zorn", "Cid Xavier", "Bob Young"]),
        ("created_at", ["Cid Xavier", "Ada Zorn", "Bob Young"]),  # not a sort key: the default order
        ("-password", ["Cid Xavier", "Ada Zorn", "Bob Young"]),
    ],
)
def test_sorting_by_a_column(client, sdr, sortable, sort, expected):
    assert shown(get(client, sdr, sort=sort)) == expected


def test_a_lead_without_a_company_says_so_and_sorts_last_by_company(client, sdr, sortable):
    LeadFactory(first_name="Nel", last_name="Nocompany", owner=sdr, stage=Stage.SQL, account=None)
    response = get(client, sdr, sort="company")
    assert shown(response) == ["Bob Young", "Ada Zorn", "Cid Xavier", "Nel Nocompany"]
    assert "No company" in response.content.decode()


# --- filters and search -------------------------------------------------------------------------------------------


@pytest.fixture
def varied(sdr, germany, other_sdr, france):
    make_lead("Ann Hot", owner=sdr, temperature="hot", score=85, score_tier="sql", source="web", employees=5000)
    make_lead("Ben Cold", owner=sdr, temperature="cold", score=30, score_tier="mql", stage=Stage.MQL, source="event")
    make_lead("Cat Warm", owner=sdr, temperature="warm", score=60, score_tier="borderline", employees=20)
    queued(make_lead("Dan Queue", temperature="warm", score_tier="sql", employees=20, source="event"), germany)
    queued(make_lead("Eli France"), france)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "mql"}, {"Ben Cold"}),
        ({"stage": "sql"}, {"Ann Hot", "Cat Warm", "Dan Queue"}),
        ({"stage": "accepted"}, {"Ann Hot", "Ben Cold", "Cat Warm", "Dan Queue"}),  # not an SDR's stage: ignored
        ({"tier": "sql"}, {"Ann Hot", "Dan Queue"}),
        ({"tier": "borderline"}, {"Cat Warm"}),
        ({"temperature": "hot"}, {"Ann Hot"}),
        ({"temperature": "warm"}, {"Cat Warm", "Dan Queue"}),
        ({"segment": "enterprise"}, {"Ann Hot"}),
        ({"segment": "smb"}, {"Cat Warm", "Dan Queue"}),
        ({"segment": "mid_market"}, {"Ben Cold"}),
        ({"source": "event"}, {"Ben Cold", "Dan Queue"}),
        ({"owner": "me"}, {"Ann Hot", "Ben Cold", "Cat Warm"}),
        ({"owner": "none"}, {"Dan Queue"}),
        ({"stage": "sql", "temperature": "warm", "owner": "me"}, {"Cat Warm"}),
    ],
)
def test_each_filter(client, sdr, varied, params, expected):
    assert set(shown(get(client, sdr, **params))) == expected


def test_the_territory_filter_offers_only_ones_own_territories(client, sdr, varied, germany, france):
    response = get(client, sdr, territory=str(germany.pk))
    assert set(shown(response)) == {"Dan Queue"}
    assert response.context["options"].territory == [(str(germany.pk), "Germany")]
    # France is not an SDR's territory: the filter is dropped, never a way to see France's queue.
    assert set(shown(get(client, sdr, territory=str(france.pk)))) == {"Ann Hot", "Ben Cold", "Cat Warm", "Dan Queue"}


def test_an_sdr_cannot_filter_by_another_reps_id(client, sdr, other_sdr, varied):
    assert set(shown(get(client, sdr, owner=str(other_sdr.pk)))) == {"Ann Hot", "Ben Cold", "Cat Warm", "Dan Queue"}


def test_a_manager_filters_by_owner_among_their_reps(client, manager, sdr, germany, other_sdr, varied):
    make_lead("Gina Lead", owner=germany.gina)
    assert set(shown(get(client, manager, owner=str(germany.gina.pk)))) == {"Gina Lead"}
    assert set(shown(get(client, manager, owner=str(sdr.pk)))) == {"Ann Hot", "Ben Cold", "Cat Warm"}
    assert set(shown(get(client, manager, owner="none"))) == {"Dan Queue"}
    everyone = {"Ann Hot", "Ben Cold", "Cat Warm", "Dan Queue", "Gina Lead"}
    # other_sdr is in another manager's team: not an option, so the filter is dropped.
    assert set(shown(get(client, manager, owner=str(other_sdr.pk)))) == everyone
    values = [value for value, _ in get(client, manager).context["options"].owner]
    assert values[0] == "none"
    assert set(values) == {"none", str(sdr.pk), str(germany.gina.pk)}


@pytest.fixture
def searchable(sdr, germany):
    make_lead("Ada Lovelace", owner=sdr, company="Analytical Engines", email="ada@engines.example")
    make_lead("Grace Hopper", owner=sdr, company="Cobol Works", email="grace@navy.example")
    queued(make_lead("Alan Turing", company="Bletchley Park", email="alan@bletchley.example"), germany)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ada", {"Ada Lovelace"}),
        ("LOVELACE", {"Ada Lovelace"}),
        ("ada lovelace", {"Ada Lovelace"}),
        ("  grace   hopper ", {"Grace Hopper"}),
        ("cobol", {"Grace Hopper"}),
        ("bletchley", {"Alan Turing"}),
        ("navy.example", {"Grace Hopper"}),
        ("a", {"Ada Lovelace", "Grace Hopper", "Alan Turing"}),
        ("ada hopper", set()),
        ("nobody", set()),
    ],
)
def test_search_by_name_company_or_email(client, sdr, searchable, q, expected):
    assert set(shown(get(client, sdr, q=q))) == expected


def test_an_empty_search_result_says_so_and_offers_to_clear(client, sdr, searchable):
    page = get(client, sdr, q="nobody").content.decode()
    assert "No lead of your queue matches these filters." in page
    assert "Clear the filters" in page


def test_an_empty_queue_explains_what_will_appear_here(client, sdr, germany):
    page = get(client, sdr).content.decode()
    assert "Your queue is empty" in page
    assert "Unowned leads waiting in the queue of Germany appear here too" in page


def test_an_sdr_outside_any_territory_is_told_why_nothing_waits_to_be_claimed(client, sdr):
    page = get(client, sdr).content.decode()
    assert "You are not a member of any territory" in page


# --- pagination ---------------------------------------------------------------------------------------------------


def test_pagination_has_a_total_and_page_links(client, sdr, germany):
    for number in range(60):
        make_lead(f"Lead N{number:02d}", owner=sdr, score=number)
    response = get(client, sdr, page=2)
    assert response.context["page"].paginator.count == 60
    assert len(response.context["rows"]) == 25
    # Best score first: page 2 starts with the 26th best (score 34).
    assert shown(response)[0] == "Lead N34"
    page = response.content.decode()
    assert '<span data-testid="queue-pages">Page 2 of 3</span>' in page
    assert '<span class="fw-semibold" data-testid="queue-total">60 leads</span>' in page
    assert page.count('data-testid="page-link"') == 2  # pages 1 and 3
    assert "page=3" in page
    third = get(client, sdr, page=3, per_page=25)
    assert len(third.context["rows"]) == 10
    assert len(get(client, sdr, per_page=50).context["rows"]) == 50
    assert len(get(client, sdr, per_page=1000).context["rows"]) == 25  # not an offered size
    assert get(client, sdr, page="junk").context["page"].number == 1
    assert get(client, sdr, page=99).context["page"].number == 3


def test_filters_survive_in_the_page_and_sort_links(client, sdr, germany):
    for number in range(30):
        make_lead(f"Lead N{number:02d}", owner=sdr, temperature="warm")
    page = get(client, sdr, temperature="warm", q="lead").content.decode()
    assert "?temperature=warm&amp;q=lead&amp;page=2" in page
    assert "?temperature=warm&amp;q=lead&amp;sort=score" in page


# --- rows ---------------------------------------------------------------------------------------------------------


def _score(leads, events):
    version = ScoringModelVersion.objects.get(model__name="Default", status=VersionStatus.ACTIVE)
    aggregates.events_record(events=events)
    scores.leads_rescore(lead_ids=[lead.pk for lead in leads], version=version, now=NOW)


def test_the_top_reason_is_the_lead_pages_first_factor(client, sdr, germany):
    plain = make_lead("Cora Compare", owner=sdr, employees=None)
    plain.account.industry = ""
    plain.account.save()
    raiser = make_lead("Vic Raiser", owner=sdr, seniority="vp", department="sales")
    Lead.objects.filter(pk=raiser.pk).update(account=AccountFactory(employees=800, annual_revenue=200_000_000))
    unscored = make_lead("Una Unscored", owner=sdr)
    _score(
        [plain, raiser],
        [
            {"lead_id": plain.pk, "kind": "competitor_comparison_download", "occurred_at": NOW, "properties": {}},
            {"lead_id": raiser.pk, "kind": "demo_request", "occurred_at": NOW, "properties": {}},
        ],
    )
    Lead.objects.filter(pk__in=[plain.pk, raiser.pk, unscored.pk]).update(owner=sdr, stage=Stage.SQL)
    rows = {str(row.lead): row for row in get(client, sdr).context["rows"]}

    assert rows["Cora Compare"].top_reason.text == "Competitor comparison download +35 (Buying signals)"
    assert rows["Vic Raiser"].top_reason.fast_track
    assert rows["Vic Raiser"].top_reason.text.startswith("Fast-tracked: Demo request on 2026-11-30")
    assert rows["Una Unscored"].top_reason is None
    for name in ("Cora Compare", "Vic Raiser"):
        result = lead_score_explanation(lead=Lead.objects.get(pk=rows[name].lead.pk)).result
        first = result.fast_track_reason if result.fast_track else result.top_positive[0].rule_name
        assert rows[name].top_reason.text.startswith(first)


def test_a_lead_whose_facts_moved_since_scoring_says_its_score_is_being_refreshed(client, sdr, germany):
    lead = make_lead("Rita Refresh", owner=sdr, employees=None)
    _score([lead], [{"lead_id": lead.pk, "kind": "webinar_attended", "occurred_at": NOW, "properties": {}}])
    aggregates.events_record(
        events=[{"lead_id": lead.pk, "kind": "demo_request", "occurred_at": NOW, "properties": {}}]
    )
    Lead.objects.filter(pk=lead.pk).update(owner=sdr, stage=Stage.SQL)
    row = get(client, sdr).context["rows"][0]
    assert row.top_reason.text == "Score being refreshed"


def test_each_row_offers_exactly_the_actions_the_services_allow(
    client, sdr, manager, germany, france, other_sdr, policies
):
    make_lead("Sam Sql", owner=sdr)
    make_lead("Mo Mql", owner=sdr, stage=Stage.MQL)
    queued(make_lead("Wes Waiting"), germany)
    make_lead("Gina Lead", owner=germany.gina, stage=Stage.SQL)
    TerritoryMember.objects.filter(user=sdr).update(monthly_capacity=0)
    queued(make_lead("Cap Reached", stage=Stage.MQL), germany)
    for user in (sdr, manager):
        for row in get(client, user).context["rows"]:
            lead = Lead.objects.get(pk=row.lead.pk)
            expected = set(handoff_selectors.lead_actions(user=user, lead=lead))
            assert {action for action, why in row.refusals.items() if why is None} == expected & set(row.refusals)


def test_rows_carry_what_the_keys_may_do_or_why_not(client, sdr, germany):
    sql = make_lead("Sam Sql", owner=sdr)
    mql = make_lead("Mo Mql", owner=sdr, stage=Stage.MQL)
    waiting = queued(make_lead("Wes Waiting"), germany)
    page = get(client, sdr).content.decode()
    assert f'data-accept-url="/work/leads/{sql.pk}/accept/"' in page
    assert f'data-reject-url="/work/leads/{sql.pk}/reject/"' in page
    assert f'data-activity-url="/work/leads/{mql.pk}/activity/"' in page
    assert 'data-accept-refusal="Only an SQL can be accepted or rejected; this lead is MQL."' in page
    assert f'data-open-url="/leads/{sql.pk}/"' in page
    assert 'data-open-refusal="Claim this lead to open it' in page
    assert f'formaction="/work/leads/{waiting.pk}/claim/"' in page
    assert '<script src="/static/js/queue.js" defer></script>' in page


def test_a_rep_at_capacity_sees_why_instead_of_a_claim_button(client, sdr, germany):
    TerritoryMember.objects.filter(user=sdr).update(monthly_capacity=0)
    waiting = queued(make_lead("Wes Waiting"), germany)
    page = get(client, sdr).content.decode()
    assert f'formaction="/work/leads/{waiting.pk}/claim/"' not in page
    assert "You are at your monthly capacity; ask your manager before taking more leads." in page


def test_the_row_shows_the_owners_clock_due_first(client, sdr, germany, policies):
    lead = make_lead("Cy Clock", owner=sdr)
    clock(lead, policies["sdr-accept-reject"], owner=sdr, due=NOW + dt.timedelta(days=2))
    clock(lead, policies["contact-warm"], owner=sdr, due=NOW + dt.timedelta(minutes=15))
    row = get(client, sdr).context["rows"][0]
    assert row.clock.policy.key == "contact-warm"


def test_a_paused_clock_neither_puts_its_lead_first_nor_hides_that_it_is_paused(client, sdr, germany, policies):
    """A clock paused by an open ownership dispute stands still: its lead sorts with the leads without a running
    clock, and the row says the clock is paused."""
    disputed = make_lead("Dora Disputed", owner=sdr, temperature="cold")
    paused = clock(disputed, policies["contact-cold"], owner=sdr, due=NOW - dt.timedelta(hours=3))
    SlaClock.objects.filter(pk=paused.pk).update(paused_at=NOW - dt.timedelta(hours=4), next_step_at=None)
    running = make_lead("Rex Running", owner=sdr, temperature="cold")
    clock(running, policies["contact-cold"], owner=sdr, due=NOW + dt.timedelta(hours=5))
    make_lead("Hank Hot", owner=sdr, temperature="hot")
    response = get(client, sdr)
    assert shown(response) == ["Rex Running", "Hank Hot", "Dora Disputed"]
    assert response.context["rows"][2].clock.pk == paused.pk
    assert 'data-testid="clock-paused"' in response.content.decode()


# --- export -------------------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_export_is_the_filtered_list_with_formulas_neutralised(client, sdr, germany):
    make_lead(
        '=HYPERLINK("http://evil.example") Evil',
        owner=sdr,
        company="@SUM(A1:A9)",
        title="+cmd|' /C calc'!A0",
        score=77,
    )
    make_lead("-2+3 Minus", owner=sdr, company="Plain Co", title="-5", score=50)
    make_lead("Not Exported", owner=sdr, stage=Stage.MQL)
    client.force_login(sdr)
    response = client.get(reverse("handoff:queue_export"), {"stage": "sql"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    header = rows[0]
    assert header[:5] == ["Lead id", "Name", "E-mail", "Title", "Company"]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {'\'=HYPERLINK("http://evil.example") Evil', "'-2+3 Minus"}
    evil = by_name['\'=HYPERLINK("http://evil.example") Evil']
    assert evil[3] == "'+cmd|' /C calc'!A0"
    assert evil[4] == "'@SUM(A1:A9)"
    assert evil[header.index("Score")] == "77"
    assert by_name["'-2+3 Minus"][3] == "-5"  # a plain number stays a number
    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("http://evil.example") Evil', "'-2+3 Minus"]


def test_an_sdrs_export_holds_none_of_another_sdrs_leads(client, sdr, other_sdr, france, germany):
    make_lead("Mine Only", owner=sdr)
    make_lead("Not Mine", owner=other_sdr)
    queued(make_lead("France Waiting"), france)
    client.force_login(sdr)
    rows = _csv(client.get(reverse("handoff:queue_export")))
    assert [row[1] for row in rows[1:]] == ["Mine Only"]
