"""The dry-run tester: the draft and the published set-up side by side, with the one routing rule, writing nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leadops.models import Lead
from routing import rules, services_setup, tester
from routing.models import RepMonthlyLoad, RoutingDecision
from tests.factories import LeadFactory
from tests.routing.conftest import sql_lead
from tests.routing.test_setup import member, territory_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_with_france_elsewhere(admin_user, emea, team, manager):
    """Draft: a new territory France (priority 1) worked by gina alone, EMEA after it."""
    services_setup.setup_territory_save(
        by=admin_user,
        data=territory_data(team, name="France", priority=1, countries=["FR"]),
        members=[member(emea.gina)],
    )
    services_setup.setup_territory_move(by=admin_user, key=f"t{emea.pk}", up=False)
    return services_setup.draft_open()


def snapshot():
    return (
        RoutingDecision.objects.count(),
        list(Lead.objects.order_by("pk").values_list("pk", "owner_id")),
        list(RepMonthlyLoad.objects.order_by("pk").values_list("user_id", "assigned")),
    )


def test_one_described_lead_shows_both_paths(client, admin_user, emea, draft_with_france_elsewhere):
    client.force_login(admin_user)
    response = client.post(
        reverse("routing:tester"),
        {
            "mode": "one",
            "country": "France",
            "industry": "Software",
            "employees": "300",
            "score": "85",
            "fit": "80",
            "temperature": "warm",
            "signal_days_ago": "3",
        },
    )
    assert response.status_code == 200
    row = response.context["comparison"].rows[0]
    assert "territory EMEA (priority 1)" in row["published"].decision.path
    assert "territory France (priority 1)" in row["draft"].decision.path
    assert row["draft"].who == "Gina" and row["changed"]
    page = response.content.decode()
    assert "intent 3 days ago" in page and "territory France (priority 1)" in page


def test_the_draft_side_is_the_pure_rule_on_the_drafts_facts(admin_user, emea, draft_with_france_elsewhere):
    now = timezone.now()
    lead = tester.described_lead(now=now, country="FR", score=80, fit=80, signal_days_ago=1)
    setup = tester.DraftSetup(draft_with_france_elsewhere.spec, now=now)
    expected = rules.route(lead=lead.facts, territories=setup.facts(assigned={}), now=now)
    comparison = tester.compare(draft_with_france_elsewhere.spec, [lead], now=now)
    assert comparison.draft.outcomes[0].decision == expected
    assert expected.assignee_id == emea.gina.pk and expected.queue == ""
    assert "territory France (priority 1)" in expected.path


def test_a_batch_by_filter_shows_the_spread_side_by_side_and_writes_nothing(
    client, admin_user, emea, sdr, ae, draft_with_france_elsewhere
):
    for _ in range(4):
        sql_lead(country="France")
    for _ in range(2):
        sql_lead(country="Germany")
    LeadFactory()  # not an SQL: left out by the filter
    before = snapshot()
    client.force_login(admin_user)
    response = client.post(reverse("routing:tester"), {"mode": "filter", "stage": "sql", "limit": "500"})
    assert response.status_code == 200
    comparison = response.context["comparison"]
    spread = {row["who"]: (row["published"], row["draft"]) for row in comparison.spread_rows}
    # Published: all six to the two EMEA specialists, three each; draft: France's four to Gina.
    assert spread == {sdr.get_full_name(): (3, 1), ae.get_full_name(): (3, 1), "Gina": (0, 4)}
    assert comparison.changed == 4
    assert snapshot() == before


def test_an_uploaded_export_is_tried_without_importing(client, admin_user, emea, draft_with_france_elsewhere):
    known = sql_lead(country="Germany")
    csv = (
        "FirstName,LastName,Email,Company,Country,Industry,NumberOfEmployees\n"
        "Ana,Ruiz,ana@fr-corp.example,FR Corp,France,Software,200\n"
        f"Known,Lead,{known.email},Known Co,Germany,Software,200\n"
        "Bo,Li,bo@jp.example,JP KK,Japan,Software,50\n"
    ).encode()
    before = snapshot()
    leads_before = Lead.objects.count()
    client.force_login(admin_user)
    response = client.post(
        reverse("routing:tester"),
        {
            "mode": "file",
            "file": SimpleUploadedFile("leads.csv", csv, content_type="text/csv"),
            "encoding": "auto",
            "score": "80",
            "fit": "75",
            "temperature": "warm",
            "signal_days_ago": "2",
        },
    )
    assert response.status_code == 200, response.context["upload"].errors
    rows = response.context["comparison"].rows
    assert [r["draft"].who for r in rows][0] == "Gina"
    assert "known lead" in rows[1]["lead"].label
    assert "no territory matches" in " ".join(rows[2]["draft"].decision.path)
    assert Lead.objects.count() == leads_before and snapshot() == before


def test_a_file_that_is_not_an_export_is_refused_on_the_field(client, admin_user, emea):
    client.force_login(admin_user)
    response = client.post(
        reverse("routing:tester"),
        {
            "mode": "file",
            "file": SimpleUploadedFile("x.csv", b"foo,bar\n1,2\n", content_type="text/csv"),
            "encoding": "auto",
            "score": "80",
            "fit": "75",
            "temperature": "warm",
            "signal_days_ago": "2",
        },
    )
    assert response.status_code == 200 and response.context["upload"].errors["file"]


def test_an_existing_lead_is_picked_by_id(client, admin_user, emea):
    lead = sql_lead(country="Germany")
    client.force_login(admin_user)
    response = client.post(reverse("routing:tester"), {"mode": "one", "lead": str(lead.pk)})
    row = response.context["comparison"].rows[0]
    assert row["lead"].lead_id == lead.pk and not row["changed"]
    assert RoutingDecision.objects.count() == 0


def test_the_tester_is_for_admins(client, cast):
    client.force_login(cast["manager"])
    assert client.post(reverse("routing:tester"), {"mode": "one", "country": "DE"}).status_code == 403


def test_both_sides_are_decided_by_the_one_routing_rule(monkeypatch, admin_user, emea, draft_with_france_elsewhere):
    calls = []
    real_route = rules.route

    def counting_route(**kwargs):
        calls.append(kwargs["lead"].country)
        return real_route(**kwargs)

    monkeypatch.setattr(rules, "route", counting_route)
    now = timezone.now()
    leads = [tester.described_lead(now=now, country=c, score=80, fit=80, signal_days_ago=1) for c in ("FR", "DE")]
    tester.compare(draft_with_france_elsewhere.spec, leads, now=now)
    assert calls == ["FR", "DE", "FR", "DE"]  # published side, then draft side: no other decision code ran


def test_publishing_and_discarding_from_the_page(client, admin_user, emea, team, sdr):
    services_setup.setup_territory_save(
        by=admin_user, data=territory_data(team, name="DACH", priority=5), members=[member(sdr)]
    )
    client.force_login(admin_user)
    response = client.post(reverse("routing:setup_publish"), follow=True)
    assert "published: new SQLs are routed with it from now on" in response.content.decode()
    assert services_setup.draft_open() is None
    response = client.post(reverse("routing:setup_discard"), follow=True)
    assert "There is no draft to discard." in response.content.decode()
