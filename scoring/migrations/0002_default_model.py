"""Install the default scoring model (version 1, active) so a new installation scores from the first event.

Built from the research in DESIGN.md section 2. A frozen copy: later changes to the defaults go through drafts and
approval like any other change, not through this migration.
"""

from django.db import migrations

WEIGHTS = {"weight_fit": "0.40", "weight_engagement": "0.30", "weight_intent": "0.20", "weight_buying": "0.10"}
TARGET_INDUSTRIES = ["Software", "Financial Services", "Healthcare", "Manufacturing", "Professional Services",
                     "Telecommunications"]
NON_TARGET_INDUSTRIES = ["Education", "Government", "Non-profit"]

RULES = [
    # fit: who they are
    dict(key="fit-revenue-10m-1b", name="Annual revenue $10M-$1B", kind="attribute", pillar="fit", points=25,
         field="account.annual_revenue", operator="between", value=[10_000_000, 1_000_000_000]),
    dict(key="fit-employees-50-10000", name="50-10,000 employees", kind="attribute", pillar="fit", points=20,
         field="account.employees", operator="between", value=[50, 10_000]),
    dict(key="fit-target-industry", name="Target industry", kind="attribute", pillar="fit", points=20,
         field="account.industry", operator="in", value=TARGET_INDUSTRIES),
    dict(key="fit-non-target-industry", name="Non-target industry", kind="attribute", pillar="fit", points=-20,
         field="account.industry", operator="in", value=NON_TARGET_INDUSTRIES),
    dict(key="fit-seniority-vp-plus", name="VP or C-level", kind="attribute", pillar="fit", points=25,
         field="lead.seniority", operator="in", value=["vp", "c_level"]),
    dict(key="fit-seniority-director", name="Director", kind="attribute", pillar="fit", points=15,
         field="lead.seniority", operator="equals", value="director"),
    dict(key="fit-buying-department", name="Buying department (sales, marketing, IT, operations)", kind="attribute",
         pillar="fit", points=10, field="lead.department", operator="in",
         value=["sales", "marketing", "it", "operations", "executive"]),
    # engagement: what they do, decaying with a 30-day half-life
    dict(key="eng-email-open", name="E-mail opens", kind="behaviour", pillar="engagement", event_kind="email_open",
         points=1, cap=10, half_life_days=30),
    dict(key="eng-email-click", name="E-mail clicks", kind="behaviour", pillar="engagement", event_kind="email_click",
         points=4, cap=20, half_life_days=30),
    dict(key="eng-content-download", name="Content downloads", kind="behaviour", pillar="engagement",
         event_kind="content_download", points=10, cap=30, half_life_days=30),
    dict(key="eng-webinar", name="Webinar attended", kind="behaviour", pillar="engagement",
         event_kind="webinar_attended", points=15, cap=30, half_life_days=45),
    dict(key="eng-product-pages", name="Product page views", kind="behaviour", pillar="engagement",
         event_kind="page_view", property_name="path", property_value="/product", points=4, cap=20,
         half_life_days=30),
    dict(key="eng-repeat-visits", name="Repeat visits (5+ page views)", kind="behaviour", pillar="engagement",
         event_kind="page_view", points=2, cap=15, half_life_days=30, min_count=5),
    dict(key="eng-form", name="Forms submitted", kind="behaviour", pillar="engagement", event_kind="form_submitted",
         points=10, cap=20, half_life_days=30),
    dict(key="eng-inactive-90d", name="Inactive for 90 days", kind="inactivity", pillar="engagement", days=90,
         points=-20),
    dict(key="eng-unsubscribed", name="Unsubscribed from e-mail", kind="attribute", pillar="engagement", points=-25,
         field="lead.unsubscribed", operator="is_true", value=None),
    # intent: third-party surge
    dict(key="intent-surge-70", name="Intent surge 70+ in the last 30 days", kind="intent", pillar="intent",
         points=60, min_surge=70, within_days=30, topics=[]),
    dict(key="intent-surge-50", name="Intent surge 50+ in the last 60 days", kind="intent", pillar="intent",
         points=25, min_surge=50, within_days=60, topics=[]),
    dict(key="intent-topic-match", name="Surge on our topics", kind="intent", pillar="intent", points=25,
         min_surge=50, within_days=30,
         topics=["lead scoring", "sales automation", "lead routing", "crm", "revenue operations"]),
    # buying signals
    dict(key="buy-demo-request", name="Demo request", kind="behaviour", pillar="buying", event_kind="demo_request",
         points=50, cap=50, half_life_days=60),
    dict(key="buy-pricing-3-sessions", name="Pricing page, 3+ sessions", kind="behaviour", pillar="buying",
         event_kind="pricing_page_visit", points=9, cap=25, half_life_days=30, min_count=3),
    dict(key="buy-competitor-comparison", name="Competitor comparison download", kind="behaviour", pillar="buying",
         event_kind="competitor_comparison_download", points=35, cap=35, half_life_days=60),
    dict(key="buy-rfp", name="RFP submitted", kind="behaviour", pillar="buying", event_kind="rfp_submitted",
         points=40, cap=40, half_life_days=90),
    dict(key="buy-trial", name="Trial started", kind="behaviour", pillar="buying", event_kind="trial_started",
         points=30, cap=30, half_life_days=60),
    # disqualifiers
    dict(key="dq-student", name="Student", kind="disqualify", field="lead.seniority", operator="equals",
         value="student"),
    dict(key="dq-academic-domain", name="Academic e-mail domain", kind="disqualify", field="lead.email_domain",
         operator="contains", value=".edu"),
    dict(key="dq-personal-email", name="Personal e-mail domain", kind="disqualify", field="lead.personal_email",
         operator="is_true", value=None),
    dict(key="dq-competitor", name="Competitor domain", kind="disqualify", field="lead.email_domain",
         operator="in", value=["pipelinepilot.io", "scorewise.com", "leadlyft.io", "routeiq.com", "funnelforge.com",
                               "qualifyhq.com"]),
]


def install(apps, schema_editor):
    ScoringModel = apps.get_model("scoring", "ScoringModel")
    Version = apps.get_model("scoring", "ScoringModelVersion")
    Rule = apps.get_model("scoring", "ScoringRule")
    model, created = ScoringModel.objects.get_or_create(
        name="Default", defaults={"description": "Fit, engagement, intent and buying signals (DESIGN.md section 2)."}
    )
    if not created:
        return
    version = Version.objects.create(model=model, number=1, status="active", change_note="Default model shipped "
                                     "with LeadOps", **WEIGHTS)
    Rule.objects.bulk_create([Rule(version=version, position=i, **rule) for i, rule in enumerate(RULES, start=1)])


def uninstall(apps, schema_editor):
    apps.get_model("scoring", "ScoringModel").objects.filter(name="Default").delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
