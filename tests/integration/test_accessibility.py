"""Every LeadOps page, for every role, checked by axe-core against WCAG 2.0 / 2.1 A and AA in headless Chromium.

The pages are not listed by hand. The test walks the URL configuration, leaves out by rule what is not a LeadOps
page (the API, Django's support admin, log-out), fills each path parameter with the rows it creates, and checks every
URL that answers the role with a whole HTML page (200). A new page is checked without touching this file; a new path
parameter fails the test until it gets values in `path_values`. On top come the states a URL alone does not reach:
forms shown with their errors, htmx partials swapped into a page, an open menu, the 403, 404 and 500 pages.

axe-core is vendored (tests/integration/vendor/axe-core, README there) and injected into each page: nothing is
fetched at run time. The pages checked are written to test-artifacts/accessibility-pages.txt.
"""

from __future__ import annotations

import importlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from playwright.sync_api import expect

from handoff import services as handoff_services
from leadops import urls as root_urls
from leadops.models import Activity, Opportunity
from leadops.rules import Stage
from playbooks import rules as playbook_rules
from playbooks import services as playbook_services
from playbooks.models import NextAction, NextStepTemplate, Objection, QualificationTemplate
from playbooks.services_actions import next_actions_create
from routing.models import OwnershipDispute, Territory, TerritoryMember
from scoring.forms.rule_forms import RULE_FORMS
from scoring.models import BorderlineReview, ImpactPreview, ScoringModel, ScoringModelVersion, VersionStatus
from scoring.services import aggregates, governance, preview, scores
from sla import services as sla_services
from sla.models import SlaPolicy
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"  # the vendored file; see its README to update
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROLES = ["sdr", "ae", "marketer", "manager", "admin_user"]

# What is not a LeadOps page, by rule. A route under one of these prefixes, or with one of these names, is not visited.
NOT_PAGES_BY_PREFIX = {
    "api/": "the REST API answers JSON",
    "admin/": "Django's support admin has Django's own layout",
}
NOT_PAGES_BY_NAME = {"logout": "an action (POST only), not a page"}
AXE_RUN = "only => axe.run(document, {runOnly: only, resultTypes: ['violations']})"
NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 800}
# What can change when the window narrows; the rest is checked at full width.
NARROW_RULES = ["scrollable-region-focusable"]
PATH_PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>")
# Unbroken values as long as the fields allow: they must wrap instead of pushing a page wider than the window.
LONG_TITLE = "VP" + "_Revenue_Operations" * 9
LONG_NOTE = "See https://wiki.example.com/revenue-operations/scoring/" + "x" * 160


# --- which pages there are ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # as the URL configuration writes it, e.g. "scoring/versions/<int:version_id>/"
    name: str  # e.g. "scoring:version_detail"

    def urls(self, values: dict[str, list]) -> list[str]:
        names = PATH_PARAMETER.findall(self.route)
        missing = [name for name in names if not values.get(name)]
        if missing:
            pytest.fail(f"{self.route}: no value for {missing}; give some in path_values()", pytrace=False)
        urls = []
        for combination in itertools.product(*(values[name] for name in names)):
            filled = dict(zip(names, combination, strict=True))
            urls.append("/" + PATH_PARAMETER.sub(lambda m, f=filled: str(f[m["name"]]), self.route))
        return urls


def page_routes() -> tuple[list[Route], list[str]]:
    """Every route of the URL configuration that may be a page, and what was left out and why."""
    routes, left_out = [], []

    def walk(entries, prefix: str, namespace: str) -> None:
        for entry in entries:
            route = prefix + str(entry.pattern)
            reason = next((why for p, why in NOT_PAGES_BY_PREFIX.items() if route.startswith(p)), None)
            if isinstance(entry, URLResolver):
                if reason:
                    left_out.append(f"{route}*: {reason}")
                    continue
                walk(entry.url_patterns, route, ":".join(filter(None, [namespace, entry.namespace])))
                continue
            assert isinstance(entry, URLPattern)
            name = ":".join(filter(None, [namespace, entry.name]))
            reason = reason or NOT_PAGES_BY_NAME.get(name)
            if reason:
                left_out.append(f"{route}: {reason}")
            elif not isinstance(entry.pattern, RoutePattern):
                pytest.fail(f"{entry.pattern}: a regular-expression route; teach this test to fill it", pytrace=False)
            else:
                routes.append(Route(route, name))

    walk(get_resolver(root_urls).url_patterns, "", "")
    return routes, left_out


# --- what the pages show --------------------------------------------------------------------------------------


def build_world(cast) -> dict:
    """Enough rows that every table, chart and partial has content: scored leads with events, activities and deals,
    a draft, a submitted version with its impact preview computed, an open borderline review, audit entries."""
    sdr, ae, marketer, other_sdr = cast["sdr"], cast["ae"], cast["marketer"], cast["other_sdr"]
    model = ScoringModel.objects.get(name="Default")
    active = ScoringModelVersion.objects.get(model=model, status=VersionStatus.ACTIVE)
    now = timezone.now()
    account = AccountFactory(name="Globex Corporation", industry="Software", employees=800, annual_revenue=2 * 10**8)
    mql = LeadFactory(
        account=account, owner=sdr, stage=Stage.MQL, mql_at=now, seniority="vp", department="sales", title=LONG_TITLE
    )
    sql = LeadFactory(account=account, owner=sdr, stage=Stage.SQL, mql_at=now, sql_at=now - timedelta(days=4))
    sql.stage_changed_at = now - timedelta(days=4)
    sql.save(update_fields=["stage_changed_at"])
    # Taken on as an SAL, so its AE may log a discovery call on it (the call form is a page too).
    accepted = LeadFactory(account=account, owner=ae, sdr=sdr, stage=Stage.ACCEPTED, accepted_at=now, sal_at=now)
    Opportunity.objects.create(
        lead=accepted, account=account, owner=ae, name="Globex platform", amount=48000, created_at=now
    )
    closed = []
    for i, stage in enumerate([Opportunity.Stage.WON, Opportunity.Stage.WON, Opportunity.Stage.LOST] * 2):
        lead = LeadFactory(account=account, owner=sdr, stage=Stage.OPPORTUNITY, seniority="director")
        Opportunity.objects.create(
            lead=lead, account=account, name=f"Deal {i}", amount=10000, created_at=now, stage=stage, closed_at=now
        )
        closed.append(lead)
    other_reps_lead = LeadFactory(owner=other_sdr, stage=Stage.MQL)
    Activity.objects.create(lead=mql, rep=sdr, kind=Activity.Kind.CALL, occurred_at=now, outcome="Left a message")
    leads = [mql, sql, accepted, *closed, other_reps_lead]
    aggregates.events_record(
        events=[
            {"lead_id": lead.pk, "kind": kind, "occurred_at": now, "properties": {}}
            for lead in leads
            for kind in ("email_open", "content_download", "pricing_page_visit", "demo_request")[: 1 + lead.pk % 4]
        ]
    )
    scores.leads_rescore(lead_ids=[lead.pk for lead in leads], version=active)

    draft = governance.version_draft_create(model=model, by=marketer, change_note=LONG_NOTE)
    submitted = governance.version_draft_create(model=model, by=marketer, change_note="Demo requests count more")
    rule = submitted.rules.get(key="buy-demo-request")
    governance.rule_save(version=submitted, by=marketer, rule=rule, data={"points": 60, "cap": 60})
    # A lower MQL cut-off moves leads between tiers, so the preview's tier and stage tables have rows.
    governance.version_settings_update(version=submitted, by=marketer, values={"mql_cutoff": 30})
    governance.version_submit(version=submitted, by=marketer)
    if ImpactPreview.objects.get(version=submitted).status != ImpactPreview.Status.DONE:
        preview.impact_preview_compute(version=submitted)  # the eager task computes it on commit, unless it did not
    review_lead = LeadFactory(account=account, owner=sdr, stage=Stage.MQL, mql_at=now, title="Head of Sales")
    review = BorderlineReview.objects.create(lead=review_lead, version=active, score=73, opened_at=now)
    territory = Territory.objects.create(
        name="EMEA Mid-Market",
        priority=1,
        countries=["DE", "FR"],
        team=sdr.profile.team,
        calendar={"time_zone": "Europe/Berlin", "weekly_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}},
    )
    TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    TerritoryMember.objects.create(territory=territory, user=ae, role="generalist", weight=2)
    dispute = OwnershipDispute.objects.create(lead=sql, opened_by=sdr, reason=LONG_NOTE, opened_at=now)
    handoff = build_handoff(cast, account, now)
    policies = build_policy_changes(cast)
    calls = build_playbook(cast, account, accepted, now)
    # The cadence's due actions of the SDR's leads, as the sweep creates them.
    next_actions_create(now=now, lead_ids=[mql.pk, sql.pk, review_lead.pk])
    return {
        **handoff,
        **policies,
        **calls,
        "actions": list(NextAction.objects.filter(owner=sdr).order_by("due_at", "pk")),
        "territory": territory,
        "dispute": dispute,
        "disputed_lead": sql,
        "active": active,
        "draft": draft,
        "submitted": submitted,
        "lead": mql,
        "ae_lead": accepted,
        "other_reps_lead": other_reps_lead,
        "review": review,
    }


def build_handoff(cast, account, now) -> dict:
    """An SQL the SDR rejected with a reason (marketing's rejections page) and one they accepted, which went to the
    team's AE (waiting for their review in the inbox, review clock running)."""
    sdr = cast["sdr"]
    rejected = LeadFactory(account=account, owner=sdr, stage=Stage.SQL, sql_at=now, source="webinar")
    handoff_services.lead_reject(lead=rejected, by=sdr, reason_code="no_budget", note="No budget before next year")
    handed = LeadFactory(account=account, owner=sdr, stage=Stage.SQL, sql_at=now, title="Director of Finance")
    handoff_services.lead_accept(lead=handed, by=sdr)
    return {"rejected_lead": rejected, "handed_lead": handed}


def build_policy_changes(cast) -> dict:
    """Two changes that loosen a policy, proposed by RevOps: one waiting for a second person, one a manager
    rejected."""
    admin, manager = cast["admin"], cast["manager"]
    hot, warm = SlaPolicy.objects.order_by("order", "key")[:2]
    pending = sla_services.sla_policy_save(by=admin, policy=hot, data={"target": hot.target * 2}).change
    rejected = sla_services.sla_policy_save(by=admin, policy=warm, data={"target": warm.target * 2}).change
    sla_services.sla_policy_change_reject(change=rejected, by=manager, note="Keep the target; hire instead")
    return {"pending_policy_change": pending, "policy_with_change": hot}


def build_playbook(cast, account, sal, now) -> dict:
    """Discovery calls on CHAMP: one that left criteria open (the SAL goes on to nurture from it) and one that
    qualified its lead (it opens the opportunity); then a manager's edit makes a second CHAMP version, so the
    calls are on an older one."""
    ae, manager = cast["ae"], cast["manager"]
    if not QualificationTemplate.objects.exists():  # flushed by an earlier transactional test: put it back
        importlib.import_module("playbooks.migrations.0002_default_templates").forwards(apps, None)
    importlib.import_module("playbooks.migrations.0003_coaching_and_next_actions").install_defaults(apps, None)
    champ = QualificationTemplate.objects.get(key="champ", active=True)
    objection = Objection.objects.order_by("order", "pk").first()

    def call(lead, answers, **changes):
        base = {
            "occurred_at": now - timedelta(hours=1),
            "duration_minutes": 25,
            "questions_asked": 8,
            "questions_list": "What does a lost lead cost you?\nWho signs off on tools?",
            "decision_maker_present": True,
            "persona": "cfo",
            "answers": answers,
            "next_step": "demo",
            "next_step_on": (now + timedelta(days=3)).date(),
            "next_step_owner_id": ae.pk,
        }
        return playbook_services.call_log(
            lead=lead, by=ae, template=champ, call=playbook_rules.CallInput(**{**base, **changes}), notes=LONG_NOTE
        )

    open_call = call(
        sal,
        {"challenges": "met", "authority": "partial", "money": "unknown", "prioritization": "not_met"},
        objections=(playbook_rules.ObjectionEntry(objection.key, steps=("listen", "acknowledge")),),
        answer_notes={"authority": "The CFO signs; we spoke to her deputy."},
    )
    qualified_sal = LeadFactory(account=account, owner=ae, sdr=cast["sdr"], stage=Stage.ACCEPTED, accepted_at=now)
    qualified_sal.sal_at = now
    qualified_sal.save(update_fields=["sal_at"])
    qualified_call = call(
        qualified_sal, {"challenges": "met", "authority": "met", "money": "met", "prioritization": "met"}
    )
    champ_v2 = playbook_services.template_edit(
        template=champ,
        by=manager,
        name=champ.name,
        description=champ.description,
        change_note="Money: ask for the budget owner too",
        criteria=[
            playbook_rules.CriterionInput(
                key=c.key,
                name=c.name,
                description=c.description,
                met_means=c.met_means,
                required=c.required,
                questions=c.questions,
            )
            for c in champ.criteria.order_by("order", "pk")
        ],
    )
    return {
        "calls": [open_call, qualified_call],
        "templates": [champ, champ_v2],
        "objection": objection,
        "next_step_template": NextStepTemplate.objects.order_by("order", "pk").first(),
    }


def path_values(world: dict) -> dict[str, list]:
    """The values each path parameter takes: one object per state worth seeing, for any role."""
    return {
        "lead_id": [world["lead"].pk, world["ae_lead"].pk, world["other_reps_lead"].pk, world["disputed_lead"].pk],
        "version_id": [world["active"].pk, world["draft"].pk, world["submitted"].pk],
        "rule_id": [world["draft"].rules.order_by("pk").first().pk],
        "kind": list(RULE_FORMS),
        "review_id": [world["review"].pk],
        # A routing territory of the draft set-up, and the SLA policy with a change waiting for approval.
        "key": [f"t{world['territory'].pk}", world["policy_with_change"].key],
        "user_id": [world["territory"].members.order_by("pk").first().user_id],
        "dispute_id": [world["dispute"].pk],
        # The approve / reject of the pending SLA change, and closing the SDR's first due action: both POST only.
        "pk": [world["pending_policy_change"].pk, world["actions"][0].pk],
        # A qualification template (the calls' old version and the current one) and a next-step template.
        "template_id": [*(t.pk for t in world["templates"]), world["next_step_template"].pk],
        "objection_id": [world["objection"].pk],
        "call_id": [call.pk for call in world["calls"]],
    }


# --- checking a page ------------------------------------------------------------------------------------------


@dataclass
class Report:
    pages: dict[str, list[str]] = field(default_factory=dict)  # role -> what was checked
    problems: list[str] = field(default_factory=list)
    not_visited: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # role -> why -> route names
    not_pages: list[str] = field(default_factory=list)  # routes left out by rule
    axe_version: str = ""

    def check(self, page, role: str, label: str) -> None:
        """Run axe-core on what the page shows now and note every WCAG A/AA violation; then, on a phone-sized window,
        note any sideways overflow and any region that scrolls sideways but cannot be reached by keyboard."""
        if page.evaluate("typeof window.axe") == "undefined":
            page.add_script_tag(path=str(AXE_JS))
        self.axe_version = page.evaluate("axe.version")
        assert self.axe_version == AXE_VERSION, f"{AXE_JS} is axe-core {self.axe_version}, not {AXE_VERSION}"
        self.pages.setdefault(role, []).append(label)
        self._note(role, label, page.evaluate(AXE_RUN, {"type": "tag", "values": WCAG_TAGS}))
        self._note_overflow(page, role, label)
        size = page.viewport_size
        if size["width"] > NARROW["width"]:
            page.set_viewport_size(NARROW)
            page.evaluate(NEXT_FRAME)  # the page's resize handlers have run
            narrow = f"{label}, {NARROW['width']}px window"
            self._note(role, narrow, page.evaluate(AXE_RUN, {"type": "rule", "values": NARROW_RULES}))
            self._note_overflow(page, role, narrow)
            page.set_viewport_size(size)

    def _note(self, role: str, label: str, result: dict) -> None:
        for violation in result["violations"]:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            shown = "\n      ".join(targets[:8]) + (
                f"\n      ... and {len(targets) - 8} more" if len(targets) > 8 else ""
            )
            self.problems.append(
                f"[{role}] {label}: {violation['id']} ({violation['impact']}): {violation['help']}\n      {shown}"
            )

    def _note_overflow(self, page, role: str, label: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            self.problems.append(f"[{role}] {label}: the page is {overflow}px wider than the window")

    def write(self, path: Path) -> None:
        lines = [f"axe-core {self.axe_version}, rules tagged {', '.join(WCAG_TAGS)}", ""]
        for role, labels in self.pages.items():
            lines.append(f"{role} ({len(labels)} checked)")
            lines += [f"  {label}" for label in labels]
            for why, names in sorted(self.not_visited.get(role, {}).items()):
                counted = [
                    f"{name} x{names.count(name)}" if names.count(name) > 1 else name for name in dict.fromkeys(names)
                ]
                lines.append(f"  not visited, {why}: {', '.join(counted)}")
            lines.append("")
        lines.append("Left out for every role, by rule:")
        lines += [f"  {line}" for line in self.not_pages]
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines))


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_be_attached()


def visit_pages(page, base_url: str, role: str, candidates: list[tuple[Route, str]], report: Report) -> dict:
    """Check every candidate URL that answers this role with a whole page; return the URL each answered with
    403 or 404 first (for the error pages) and the route names visited."""
    visited, first_error = set(), {}
    for route, url in candidates:
        response = page.request.get(base_url + url, max_redirects=0)
        status = response.status
        if status != 200:
            first_error.setdefault(status, url)
            report.not_visited.setdefault(role, {}).setdefault(f"answers {status}", []).append(route.name)
            continue
        if not response.text().lstrip().lower().startswith("<!doctype html"):
            why = "an htmx fragment (its content is checked inside its page)"
            report.not_visited.setdefault(role, {}).setdefault(why, []).append(route.name)
            continue
        page.goto(base_url + url)
        report.check(page, role, f"{url} ({route.name})")
        visited.add(route.name)
    return {"visited": visited, "errors": first_error}


# --- states a URL alone does not show -----------------------------------------------------------------------------


def check_states(page, base_url: str, role: str, world: dict, seen: dict, report: Report) -> None:
    visited = seen["visited"]
    if "scoring:rule_create" in visited:
        kind = next(iter(RULE_FORMS))
        page.goto(f"{base_url}/scoring/versions/{world['draft'].pk}/rules/new/{kind}/")
        page.locator("input[name=name]").fill("")
        page.get_by_role("button", name="Save rule").click()
        expect(page.locator(".invalid-feedback").first).to_be_visible()
        report.check(page, role, f"rule form posted empty, errors swapped in by htmx ({kind})")
    if "scoring:version_detail" in visited and role == "marketer":
        page.goto(f"{base_url}/scoring/versions/{world['draft'].pk}/")
        page.get_by_role("button", name="Add rule").click()
        expect(page.locator(".dropdown-menu.show")).to_be_visible()
        report.check(page, role, "draft with the 'Add rule' menu open")
        page.keyboard.press("Escape")
        page.locator("#submit textarea[name=change_note]").fill("")
        page.locator("#submit button[type=submit]").click()
        expect(page.locator("#submit .invalid-feedback")).to_be_visible()
        report.check(page, role, "draft submitted without a change note (form errors)")
    if "scoring:version_detail" in visited:
        page.goto(f"{base_url}/scoring/versions/{world['submitted'].pk}/")
        page.locator("#impact summary").click()
        report.check(page, role, "submitted version, impact preview with the chart's numbers open")
        page.locator("#try input[name=lead]").fill(str(world["lead"].pk))
        page.locator("#try button[type=submit]").click()
        expect(page.locator("#try-result table").first).to_be_visible()
        report.check(page, role, "try on a lead, result swapped in by htmx")
    if "scoring:version_detail" in visited and role == "manager":
        page.goto(f"{base_url}/scoring/versions/{world['submitted'].pk}/")
        page.get_by_role("button", name="Reject").click()
        expect(page.locator("#decision .invalid-feedback")).to_be_visible()
        report.check(page, role, "rejected without a comment (form errors)")
    if "scoring:version_compare" in visited:
        page.goto(f"{base_url}/scoring/compare/?old={world['active'].pk}&new={world['submitted'].pk}")
        report.check(page, role, "compare page showing a diff")
    if "scoring:borderline_queue" in visited:
        page.goto(f"{base_url}/scoring/borderline/")
        row = page.get_by_test_id("review-row").first
        row.get_by_role("button", name="Keep as MQL").click()
        expect(row.get_by_text("Say why the lead stays an MQL")).to_be_visible()
        report.check(page, role, "borderline decision refused, row swapped by htmx")
        row.get_by_role("button", name="Promote to SQL").click()
        expect(row.locator(".badge")).to_be_visible()
        report.check(page, role, "borderline decision made, row swapped by htmx")
    if "lead_import" in visited:
        page.goto(f"{base_url}/leads/import/")
        page.get_by_role("button", name="Import file").click()
        report.check(page, role, "import posted without a file (form errors)")
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": b"Email,Company\nnot-an-address,Acme\n"}]
        )
        page.get_by_role("button", name="Import file").click()
        report.check(page, role, "import of a file with a bad row (row errors)")

    if "routing:territory_create" in visited:
        page.goto(f"{base_url}/routing/setup/territories/new/")
        page.locator("input[name=countries]").fill("DE, ZZ")
        page.get_by_role("button", name="Save in draft").click()
        expect(page.locator(".invalid-feedback").first).to_be_visible()
        report.check(page, role, "territory form posted with bad input (form errors)")
    if "routing:tester" in visited:
        page.goto(f"{base_url}/routing/setup/tester/")
        page.locator("input[name=country]").fill("Germany")
        page.get_by_role("button", name="Where would it go?").click()
        expect(page.locator("#tester-result")).to_be_visible()
        report.check(page, role, "dry-run tester, one lead's result swapped in by htmx")
        page.goto(f"{base_url}/routing/setup/tester/?mode=filter")
        page.get_by_role("button", name="Try this batch").click()
        expect(page.locator("#tester-result")).to_be_visible()
        report.check(page, role, "dry-run tester, a batch's spread swapped in by htmx")

    # The menu on a phone-sized window, opened.
    page.set_viewport_size(NARROW)
    page.goto(f"{base_url}/")
    page.locator(".navbar-toggler").click()
    expect(page.locator("#mainnav.show")).to_be_visible()
    report.check(page, role, f"home on a {NARROW['width']}px window with the menu open")
    page.set_viewport_size(WIDE)

    for status, url in sorted(seen["errors"].items()):
        if status in (403, 404):
            page.goto(base_url + url)
            report.check(page, role, f"{url} ({status} page)")
    page.goto(f"{base_url}/no-such-page/")
    report.check(page, role, "/no-such-page/ (404 page)")


def check_anonymous(page, base_url: str, routes: list[Route], values: dict, report: Report, password: str) -> None:
    candidates = [(route, url) for route in routes for url in route.urls(values)]
    visit_pages(page, base_url, "anonymous", candidates, report)
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill("sdr")
    page.locator("input[name=password]").fill(password + "-wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".alert-danger, .invalid-feedback").first).to_be_visible()
    report.check(page, "anonymous", "login with a wrong password (form errors)")


def check_server_error_page(page, base_url: str, report: Report) -> None:
    """The 500 page cannot be provoked on purpose; the handler's own output is served for one URL and checked."""
    response = get_resolver().resolve_error_handler(500)(RequestFactory().get("/broken/"))
    page.route(
        f"{base_url}/broken/",
        lambda route: route.fulfill(
            status=500, body=response.content, headers={"Content-Type": "text/html; charset=utf-8"}
        ),
    )
    page.goto(f"{base_url}/broken/")
    report.check(page, "anonymous", "/broken/ (500 page, rendered by handler500)")


# --- the test -------------------------------------------------------------------------------------------------


def test_every_page_of_every_role_passes_axe_wcag_a_and_aa(request, live_server, browser, cast, password):
    world = build_world(cast)
    routes, left_out = page_routes()
    values = path_values(world)
    candidates = [(route, url) for route in routes for url in route.urls(values)]
    report = Report()
    base_url = live_server.url

    for role in ["anonymous", *ROLES]:
        # Reduced motion switches Bootstrap's transitions off, so axe never measures a colour half-way through one.
        context = browser.new_context(viewport=WIDE, reduced_motion="reduce")
        page = context.new_page()
        try:
            if role == "anonymous":
                check_anonymous(page, base_url, routes, values, report, password)
                check_server_error_page(page, base_url, report)
                continue
            user = request.getfixturevalue(role)
            log_in(page, base_url, user.username, password)
            seen = visit_pages(page, base_url, role, candidates, report)
            check_states(page, base_url, role, world, seen, report)
        finally:
            context.close()

    report.not_pages = left_out
    report.write(ARTIFACTS / "accessibility-pages.txt")
    print(Path(ARTIFACTS / "accessibility-pages.txt").read_text())
    assert report.pages.get("sdr") and report.pages.get("manager")
    assert not report.problems, (
        f"axe-core {report.axe_version} ({', '.join(WCAG_TAGS)}) found {len(report.problems)} problem(s):\n"
        + "\n".join(report.problems)
    )


# --- keyboard focus, which axe does not measure ---------------------------------------------------------------


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""

    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted([luminance(first), luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


FOCUS_STYLE = """selector => {
  const el = selector ? document.querySelector(selector) : document.activeElement, style = getComputedStyle(el);
  return {text: el.textContent.trim(), id: el.id, outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor,
          borderColor: style.borderTopColor};
}"""


def test_keyboard_users_get_a_skip_link_first_and_a_visible_focus_ring(live_server, page, sdr, password):
    log_in(page, live_server.url, sdr.username, password)
    page.goto(f"{live_server.url}/leads/")

    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUS_STYLE, None)
    assert skip["text"] == "Skip to main content"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"

    # On the dark navbar: brand, then Home, then the SDR's "My queue" with its count (nothing in it yet).
    page.goto(f"{live_server.url}/leads/")
    for _ in range(4):
        page.keyboard.press("Tab")
    link = page.evaluate(FOCUS_STYLE, None)
    navbar = page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).backgroundColor")
    assert link["text"] == "My queue, leads in your queue: 0"
    assert link["outlineStyle"] == "solid" and link["outlineWidth"] >= 2
    assert contrast(link["outlineColor"], navbar) >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "focus-ring-navbar.png", clip={"x": 0, "y": 0, "width": 1280, "height": 120})

    # A form field on the page background: its border, and its focus ring.
    search = page.locator("#q")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(page.evaluate(FOCUS_STYLE, "#q")["borderColor"], background) >= 3
    search.focus()
    field = page.evaluate(FOCUS_STYLE, None)
    assert field["outlineStyle"] == "solid" and field["outlineWidth"] >= 2
    assert contrast(field["outlineColor"], background) >= 3
    page.screenshot(path=ARTIFACTS / "focus-ring-field.png", clip={"x": 0, "y": 0, "width": 1280, "height": 240})
