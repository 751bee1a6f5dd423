"""The set-up pages: a draft that the published set-up keeps routing beside, publication, bad input refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from leadops import roles
from leadops.models import AuditEntry
from leadops.rules import Stage
from routing import services, services_setup
from routing.models import RoutingDecision, RoutingSetupDraft, Territory, TerritoryMember
from tests.factories import AccountFactory, TeamFactory
from tests.routing.conftest import make_rep, sql_lead

pytestmark = pytest.mark.django_db


def territory_data(team, **overrides):
    data = {
        "name": "DACH",
        "priority": 1,
        "countries": ["DE", "AT", "CH"],
        "regions": [],
        "industries": [],
        "segments": [],
        "employees_min": None,
        "employees_max": None,
        "revenue_min": None,
        "revenue_max": None,
        "team_id": team.pk,
        "calendar": {"time_zone": "Europe/Berlin", "weekly_hours": {"mon": [["09:00", "17:00"]]}},
        "active": True,
    }
    data.update(overrides)
    return data


def member(user, **overrides):
    return {"user_id": user.pk, "role": "specialist", "weight": 1, "monthly_capacity": 80, "active": True, **overrides}


def post_territory(client, key=None, **fields):
    url = reverse("routing:territory_edit", args=[key]) if key else reverse("routing:territory_create")
    data = {
        "name": "DACH",
        "priority": "1",
        "team": "",
        "active": "on",
        "countries": "DE, AT",
        "time_zone": "Europe/Berlin",
        "mon_start": "09:00",
        "mon_end": "17:00",
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-0-role": "specialist",
        "members-0-weight": "1",
        "members-0-monthly_capacity": "80",
        "members-0-active": "on",
        "members-1-role": "generalist",
        "members-1-weight": "1",
        "members-1-monthly_capacity": "60",
        "members-1-active": "on",
    }
    data.update(fields)
    return client.post(url, data)


def test_only_admins_open_the_set_up_pages(client, cast, emea):
    urls = [
        reverse("routing:setup_home"),
        reverse("routing:territory_create"),
        reverse("routing:territory_edit", args=[f"t{emea.pk}"]),
        reverse("routing:named_accounts"),
        reverse("routing:rep_list"),
        reverse("routing:rep_edit", args=[cast["sdr"].pk]),
        reverse("routing:tester"),
    ]
    for role, user in cast.items():
        client.force_login(user)
        for url in urls:
            expected = 200 if role == "admin" else 403
            assert client.get(url).status_code == expected, (role, url)


def test_an_edit_goes_into_a_draft_and_the_published_set_up_keeps_routing(client, admin_user, emea, team, sdr):
    client.force_login(admin_user)
    response = post_territory(
        client,
        key=f"t{emea.pk}",
        name="EMEA",
        team=str(team.pk),
        countries="FR",
        **{"members-0-user": str(sdr.pk), "members-0-role": "specialist"},
    )
    assert response.status_code == 302
    draft = RoutingSetupDraft.objects.get(status="open")
    assert draft.spec["territories"][0]["countries"] == ["FR"]
    emea.refresh_from_db()
    assert emea.countries == ["DE", "FR"]  # published unchanged

    lead = sql_lead(country="Germany")
    decision = services.lead_route(lead_id=lead.pk)
    assert decision.territory_id == emea.pk  # Germany still routes by the published set-up


def test_publishing_writes_the_territories_bumps_the_version_and_audits(admin_user, emea, team, sdr, ae):
    before = emea.setup_version
    services_setup.setup_territory_save(
        by=admin_user,
        data=territory_data(team, name="DACH", priority=1),
        members=[member(sdr, weight=2), member(ae, role="generalist", monthly_capacity=50)],
    )
    services_setup.setup_territory_move(by=admin_user, key=f"t{emea.pk}", up=False)  # EMEA after DACH
    version = services_setup.setup_draft_publish(by=admin_user)

    assert version == before + 1
    dach = Territory.objects.get(name="DACH")
    emea.refresh_from_db()
    assert (dach.priority, emea.priority) == (1, 2)
    assert dach.setup_version == emea.setup_version == version
    assert dach.calendar["time_zone"] == "Europe/Berlin"
    members = {
        m.user_id: (m.role, m.weight, m.monthly_capacity) for m in TerritoryMember.objects.filter(territory=dach)
    }
    assert members == {sdr.pk: ("specialist", 2, 80), ae.pk: ("generalist", 1, 50)}
    assert AuditEntry.objects.filter(action="routing.setup_publish", changes__version=version).exists()
    assert RoutingSetupDraft.objects.get().status == "published"

    decision = services.lead_route(lead_id=sql_lead(country="Germany").pk)
    assert decision.territory_id == dach.pk and decision.setup_version == version


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"countries": ["XX"]}, "countries", "'XX' is not an ISO country code"),
        ({"calendar": {"time_zone": "Mars/Olympus"}}, "calendar.time_zone", "is not a time zone name"),
        (
            {"calendar": {"time_zone": "UTC", "weekly_hours": {"tue": [["17:00", "09:00"]]}}},
            "calendar.weekly_hours.tue",
            "must end after it starts",
        ),
    ],
)
def test_bad_territory_input_is_refused_on_its_field_and_nothing_changes(admin_user, team, change, field, message):
    with pytest.raises(ValidationError) as refused:
        services_setup.setup_territory_save(by=admin_user, data=territory_data(team, **change), members=[])
    assert message in " ".join(refused.value.message_dict[field])
    assert not RoutingSetupDraft.objects.filter(spec__territories__0__name="DACH").exists()
    assert not Territory.objects.filter(name="DACH").exists()


@pytest.mark.parametrize(
    ("members", "field", "message"),
    [
        (lambda sdr, ae: [member(sdr, monthly_capacity=-5)], "members.0.monthly_capacity", "zero or more"),
        (lambda sdr, ae: [member(sdr), member(ae, weight=0)], "members.1.weight", "above zero"),
        (lambda sdr, ae: [member(sdr, weight=-1)], "members.0.weight", "above zero"),
        (lambda sdr, ae: [member(sdr), member(sdr, role="generalist")], "members.1.user_id", "listed twice"),
    ],
)
def test_bad_members_are_refused(admin_user, team, sdr, ae, members, field, message):
    with pytest.raises(ValidationError) as refused:
        services_setup.setup_territory_save(by=admin_user, data=territory_data(team), members=members(sdr, ae))
    assert message in " ".join(refused.value.message_dict[field])
    draft = RoutingSetupDraft.objects.filter(status="open").first()
    assert draft is None or draft.spec["territories"] == []


def test_the_form_shows_each_problem_on_its_field(client, admin_user, team, sdr):
    client.force_login(admin_user)
    response = post_territory(
        client,
        team=str(team.pk),
        countries="DE, ZZ",
        time_zone="Nowhere/City",
        tue_start="18:00",
        tue_end="08:00",
        **{
            "members-0-user": str(sdr.pk),
            "members-0-monthly_capacity": "-1",
            "members-1-user": str(sdr.pk),
            "members-1-weight": "0",
        },
    )
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert "'ZZ' is not an ISO country code" in " ".join(form.errors["countries"])
    assert "time zone" in " ".join(form.errors["time_zone"])
    assert "must end after it starts" in " ".join(form.errors["tue_end"])
    assert "zero or more" in " ".join(formset.forms[0].errors["monthly_capacity"])
    assert "above zero" in " ".join(formset.forms[1].errors["weight"])
    assert "listed twice" in " ".join(formset.forms[1].errors["user"])
    assert not Territory.objects.filter(name="DACH").exists()


def test_a_draft_that_went_bad_is_not_published_at_all(admin_user, emea, team, sdr):
    services_setup.setup_territory_save(by=admin_user, data=territory_data(team), members=[member(sdr)])
    draft = RoutingSetupDraft.objects.get(status="open")
    spec = draft.spec
    spec["territories"][-1]["members"][0]["weight"] = "0"  # stored bad, e.g. by an older version of the page
    RoutingSetupDraft.objects.filter(pk=draft.pk).update(spec=spec)
    with pytest.raises(ValidationError) as refused:
        services_setup.setup_draft_publish(by=admin_user)
    assert any("DACH: A weight must be above zero." in m for ms in refused.value.message_dict.values() for m in ms)
    assert not Territory.objects.filter(name="DACH").exists()
    assert RoutingSetupDraft.objects.get(pk=draft.pk).status == "open"


def test_a_removed_territory_is_deleted_on_publish(admin_user, emea):
    services_setup.setup_territory_remove(by=admin_user, key=f"t{emea.pk}")
    assert Territory.objects.filter(pk=emea.pk).exists()
    services_setup.setup_draft_publish(by=admin_user)
    assert not Territory.objects.filter(pk=emea.pk).exists()


def test_discarding_leaves_the_published_set_up(admin_user, emea, team):
    services_setup.setup_territory_save(by=admin_user, data=territory_data(team), members=[])
    services_setup.setup_draft_discard(by=admin_user)
    assert not Territory.objects.filter(name="DACH").exists()
    assert services_setup.draft_open() is None


def test_a_named_account_owner_takes_effect_when_published(admin_user, emea, team, manager):
    owner = make_rep("olga", team, manager, role=roles.AE, first_name="Olga")
    account = AccountFactory(domain="globex.example")
    services_setup.setup_named_account_set(by=admin_user, account=account, owner=owner)
    account.refresh_from_db()
    assert account.named_account_owner_id is None
    services_setup.setup_draft_publish(by=admin_user)
    account.refresh_from_db()
    assert account.named_account_owner_id == owner.pk


def test_a_named_account_belongs_to_an_account_executive(admin_user, sdr):
    with pytest.raises(ValidationError) as refused:
        services_setup.setup_named_account_set(by=admin_user, account=AccountFactory(), owner=sdr)
    assert "not an account executive" in refused.value.message_dict["owner"][0]


def test_the_set_up_services_refuse_other_roles(manager, team):
    with pytest.raises(PermissionDenied):
        services_setup.setup_territory_save(by=manager, data=territory_data(team), members=[])
    with pytest.raises(PermissionDenied):
        services_setup.setup_draft_publish(by=manager)


def test_setting_a_rep_out_of_office_reroutes_their_unworked_sqls(client, admin_user, emea, sdr, ae):
    lead = sql_lead()
    services.lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    away = lead.owner
    client.force_login(admin_user)
    today = timezone.localdate()
    response = client.post(
        reverse("routing:rep_edit", args=[away.pk]),
        {
            "monthly_capacity": "70",
            "out_of_office_from": today.isoformat(),
            "out_of_office_until": (today + dt.timedelta(days=10)).isoformat(),
            "active": "on",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner_id not in (None, away.pk)
    reroute = RoutingDecision.objects.get(lead=lead, kind="reroute")
    assert "out of office until" in reroute.path[0]
    away.profile.refresh_from_db()
    assert away.profile.monthly_capacity == 70
    assert AuditEntry.objects.filter(action="routing.rep_availability", object_id=str(away.profile.pk)).exists()


def test_switching_a_rep_off_reroutes_and_a_worked_sql_stays(admin_user, emea, sdr, ae):
    worked = sql_lead(owner=sdr)
    worked.first_activity_at = timezone.now()
    worked.save(update_fields=["first_activity_at"])
    unworked = sql_lead(owner=sdr)
    services_setup.rep_availability_update(
        by=admin_user, user=sdr, monthly_capacity=80, out_of_office_from=None, out_of_office_until=None, active=False
    )
    worked.refresh_from_db()
    unworked.refresh_from_db()
    assert worked.owner_id == sdr.pk
    assert unworked.owner_id != sdr.pk and unworked.stage == Stage.SQL


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"monthly_capacity": -1}, "monthly_capacity"),
        ({"monthly_capacity": 100_000}, "monthly_capacity"),
        (
            {"out_of_office_from": dt.date(2026, 12, 10), "out_of_office_until": dt.date(2026, 12, 1)},
            "out_of_office_until",
        ),
    ],
)
def test_bad_rep_availability_is_refused(admin_user, sdr, values, field):
    arguments = {"monthly_capacity": 80, "out_of_office_from": None, "out_of_office_until": None, "active": True}
    arguments.update(values)
    with pytest.raises(ValidationError) as refused:
        services_setup.rep_availability_update(by=admin_user, user=sdr, **arguments)
    assert field in refused.value.message_dict
    sdr.profile.refresh_from_db()
    assert sdr.profile.monthly_capacity == 80


def test_the_territory_list_is_in_priority_order(client, admin_user, emea, team):
    Territory.objects.create(name="Catch-all", priority=9, team=TeamFactory())
    Territory.objects.create(name="Nordics", priority=0, countries=["SE"], team=team)
    client.force_login(admin_user)
    page = client.get(reverse("routing:setup_home")).content.decode()
    assert page.index("Nordics") < page.index("EMEA") < page.index("Catch-all")


def test_a_missing_team_is_named_together_with_the_other_problems(client, admin_user):
    client.force_login(admin_user)
    response = post_territory(client, team="", countries="XX", time_zone="Mars/Olympus")
    form = response.context["form"]
    assert form.errors["team"] == ["Choose the team that works this territory."]
    assert "'XX' is not an ISO country code" in " ".join(form.errors["countries"])
    assert "time zone" in " ".join(form.errors["time_zone"])


def test_a_draft_says_when_the_published_set_up_changed_under_it(client, admin_user, emea, team):
    services_setup.setup_territory_save(by=admin_user, data=territory_data(team), members=[])
    client.force_login(admin_user)
    assert 'data-testid="draft-stale"' not in client.get(reverse("routing:setup_home")).content.decode()
    services.territory_save(by=admin_user, data={"countries": ["DE"]}, territory=emea)  # e.g. through the API
    assert 'data-testid="draft-stale"' in client.get(reverse("routing:setup_home")).content.decode()


def test_the_territory_list_costs_the_same_queries_for_more_territories(
    client, admin_user, team, sdr, ae, django_assert_max_num_queries
):
    client.force_login(admin_user)
    for number in range(2):
        territory = Territory.objects.create(name=f"T{number}", priority=number + 1, team=team)
        TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    services_setup.setup_territory_save(by=admin_user, data=territory_data(team), members=[member(ae)])
    client.get(reverse("routing:setup_home"))
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("routing:setup_home"))
    for number in range(2, 8):
        territory = Territory.objects.create(name=f"T{number}", priority=number + 1, team=TeamFactory())
        TerritoryMember.objects.create(territory=territory, user=ae, role="generalist")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("routing:setup_home"))


def test_a_priority_below_one_is_refused_not_replaced(admin_user, team):
    with pytest.raises(ValidationError) as refused:
        services_setup.setup_territory_save(by=admin_user, data=territory_data(team, priority=0), members=[])
    assert refused.value.message_dict["priority"] == ["must be a whole number, 1 or more."]


def test_the_rep_list_costs_the_same_queries_for_more_reps(
    client, admin_user, emea, team, manager, django_assert_max_num_queries
):
    client.force_login(admin_user)
    for number in range(2):
        rep = make_rep(f"rep{number}", team, manager)
        TerritoryMember.objects.create(territory=emea, user=rep, role="specialist")
    client.get(reverse("routing:rep_list"))
    with django_assert_max_num_queries(12) as few:
        page = client.get(reverse("routing:rep_list"))
    assert 'data-testid="rep-' in page.content.decode()
    for number in range(2, 8):
        rep = make_rep(f"rep{number}", TeamFactory(), manager, role=roles.AE)
        TerritoryMember.objects.create(territory=emea, user=rep, role="generalist")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("routing:rep_list"))
    assert page.content.decode().count('data-testid="rep-') >= 8
