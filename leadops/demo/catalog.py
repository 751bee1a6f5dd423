"""Reference data of the demo world: territories, industries, titles, content, reasons.

Plain constants only, so the generator stays readable and a reader can see at a glance what the world contains.
Weights are relative, not percentages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    name: str
    weight: float
    faker_locale: str
    tld: str
    phone_prefix: str
    legal_suffixes: tuple[str, ...]


@dataclass(frozen=True)
class Territory:
    key: str
    team_name: str
    region: str
    time_zone: str
    # Offset used to put rep work in office hours; a fixed offset is close enough for demo data (DST ignored).
    utc_offset_hours: int
    lead_share: float
    countries: tuple[Country, ...]


TERRITORIES: tuple[Territory, ...] = (
    Territory(
        key="na",
        team_name="North America",
        region="North America",
        time_zone="America/New_York",
        utc_offset_hours=-5,
        lead_share=0.5,
        countries=(
            Country("United States", 82, "en_US", "com", "+1", ("Inc.", "LLC", "Corp.", "")),
            Country("Canada", 18, "en_CA", "ca", "+1", ("Inc.", "Ltd.", "")),
        ),
    ),
    Territory(
        key="emea",
        team_name="EMEA",
        region="EMEA",
        time_zone="Europe/London",
        utc_offset_hours=0,
        lead_share=0.32,
        countries=(
            Country("United Kingdom", 30, "en_GB", "co.uk", "+44", ("Ltd", "plc", "")),
            Country("Germany", 22, "de_DE", "de", "+49", ("GmbH", "AG", "SE")),
            Country("France", 14, "fr_FR", "fr", "+33", ("SA", "SAS", "")),
            Country("Netherlands", 10, "nl_NL", "nl", "+31", ("B.V.", "N.V.", "")),
            Country("Spain", 8, "es_ES", "es", "+34", ("S.L.", "S.A.")),
            Country("Sweden", 6, "sv_SE", "se", "+46", ("AB",)),
            Country("Ireland", 6, "en_IE", "ie", "+353", ("Ltd", "DAC", "")),
            Country("Switzerland", 4, "de_CH", "ch", "+41", ("AG", "GmbH", "SA")),
        ),
    ),
    Territory(
        key="apac",
        team_name="APAC",
        region="APAC",
        time_zone="Asia/Singapore",
        utc_offset_hours=8,
        lead_share=0.18,
        countries=(
            Country("Australia", 35, "en_AU", "com.au", "+61", ("Pty Ltd", "Ltd", "")),
            Country("India", 25, "en_IN", "in", "+91", ("Pvt Ltd", "Ltd", "")),
            Country("Singapore", 20, "en_US", "com.sg", "+65", ("Pte Ltd", "")),
            Country("New Zealand", 10, "en_NZ", "co.nz", "+64", ("Ltd", "")),
            Country("Philippines", 10, "en_PH", "com.ph", "+63", ("Inc.", "Corp.", "")),
        ),
    ),
)


@dataclass(frozen=True)
class Industry:
    name: str
    weight: float
    is_target: bool
    revenue_per_employee: int
    name_words: tuple[str, ...]


# The ideal customer profile targets the first six; the others are real buyers too, just rarely good ones.
INDUSTRIES: tuple[Industry, ...] = (
    Industry("Software", 16, True, 250_000, ("Software", "Labs", "Systems", "Cloud", "Technologies", "Digital")),
    Industry("Financial Services", 12, True, 400_000, ("Capital", "Financial", "Bank", "Insurance", "Partners")),
    Industry("Healthcare", 10, True, 150_000, ("Health", "Medical", "Care", "Clinics", "Diagnostics")),
    Industry("Manufacturing", 12, True, 220_000, ("Manufacturing", "Industries", "Components", "Machines")),
    Industry("Professional Services", 8, True, 180_000, ("Consulting", "Advisors", "Group", "Associates")),
    Industry("Telecommunications", 5, True, 350_000, ("Telecom", "Networks", "Communications", "Connect")),
    Industry("Retail", 9, False, 200_000, ("Retail", "Stores", "Outfitters", "Market", "Brands")),
    Industry("Education", 7, False, 90_000, ("Academy", "Learning", "Institute", "Education")),
    Industry("Government", 6, False, 120_000, ("Agency", "Authority", "Council", "Services")),
    Industry("Non-profit", 6, False, 80_000, ("Foundation", "Trust", "Alliance", "Society")),
    Industry("Hospitality", 5, False, 70_000, ("Hotels", "Hospitality", "Resorts", "Restaurants")),
    Industry("Agriculture", 4, False, 160_000, ("Farms", "Agri", "Harvest", "Growers")),
)
TARGET_INDUSTRIES: frozenset[str] = frozenset(industry.name for industry in INDUSTRIES if industry.is_target)

# The fit bands the research names (DESIGN.md section 2).
FIT_REVENUE_MIN = 10_000_000
FIT_REVENUE_MAX = 1_000_000_000
FIT_EMPLOYEES_MIN = 50
FIT_EMPLOYEES_MAX = 10_000

# Segment mix of accounts and the head-count range drawn for each (bands from leadops.rules).
SEGMENT_MIX: tuple[tuple[str, float, int, int], ...] = (
    ("smb", 50, 5, 99),
    ("mid_market", 33, 100, 999),
    ("enterprise", 17, 1000, 60_000),
)
# Bigger companies have more people who find us; a lead picks its account with these weights.
LEADS_PER_ACCOUNT_WEIGHT = {"smb": 1.0, "mid_market": 1.8, "enterprise": 3.2}

# Titles by seniority band (leadops.rules.seniority_for_title derives the band again from the title itself).
TITLES_BY_BAND: dict[str, tuple[float, tuple[str, ...]]] = {
    "c_level": (
        8,
        (
            "CEO",
            "Chief Revenue Officer",
            "CFO",
            "CTO",
            "CIO",
            "COO",
            "Chief Marketing Officer",
            "Founder",
            "Co-Founder & CEO",
            "Managing Director",
            "Chief Information Security Officer",
        ),
    ),
    "vp": (
        12,
        (
            "VP of Sales",
            "VP Marketing",
            "VP Sales Operations",
            "Head of Revenue Operations",
            "SVP Sales",
            "VP Engineering",
            "VP Finance",
            "Head of Demand Generation",
            "VP of IT",
            "Head of People",
        ),
    ),
    "director": (
        18,
        (
            "Director of Sales Operations",
            "Director of Marketing",
            "IT Director",
            "Director, Demand Generation",
            "Finance Director",
            "Director of Business Development",
            "Engineering Director",
            "Director of IT Infrastructure",
        ),
    ),
    "manager": (
        27,
        (
            "Sales Manager",
            "Marketing Manager",
            "Revenue Operations Manager",
            "IT Manager",
            "Sales Development Manager",
            "Operations Manager",
            "Team Lead, Inside Sales",
            "Product Manager",
            "Marketing Operations Manager",
            "Procurement Manager",
            "Customer Success Manager",
        ),
    ),
    "individual": (
        35,
        (
            "Account Executive",
            "Sales Development Representative",
            "Marketing Specialist",
            "Business Analyst",
            "Software Engineer",
            "Data Analyst",
            "Sales Operations Analyst",
            "Operations Analyst",
            "CRM Administrator",
            "Solutions Architect",
            "Executive Assistant",
        ),
    ),
}
STUDENT_TITLES = ("Student", "MBA Student", "Marketing Intern", "PhD Candidate", "Undergraduate Student")

# Who fills in our forms although they will never buy (disqualified by the negative rules).
PERSONAL_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "gmx.de", "proton.me")
UNIVERSITY_DOMAINS = (
    "student.northbridge.edu",
    "mail.eastvale.edu",
    "westbury.ac.uk",
    "stud.uni-rheinfeld.de",
    "student.harbourside.edu.au",
    "alumni.kingsford.edu.sg",
)
# Vendors selling what LeadOps sells; their people research us, and their accounts exist in the CRM.
COMPETITORS: tuple[tuple[str, str, int], ...] = (
    ("PipelinePilot", "pipelinepilot.io", 140),
    ("ScoreWise", "scorewise.com", 85),
    ("LeadLyft", "leadlyft.io", 40),
    ("RouteIQ", "routeiq.com", 320),
    ("FunnelForge", "funnelforge.com", 60),
    ("QualifyHQ", "qualifyhq.com", 210),
)
COMPETITOR_DOMAINS: frozenset[str] = frozenset(domain for _, domain, _ in COMPETITORS)

LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("web", 18),
    ("organic_search", 12),
    ("paid_search", 10),
    ("social", 6),
    ("email", 6),
    ("webinar", 8),
    ("event", 7),
    ("content", 8),
    ("referral", 5),
    ("partner", 4),
    ("outbound", 10),
    ("list_import", 5),
    ("other", 1),
)
# Sources where the person opted in themselves; outbound and purchased lists rarely carry consent.
INBOUND_SOURCES = frozenset(
    {"web", "organic_search", "paid_search", "social", "email", "webinar", "event", "content", "referral"}
)

WEB_PATHS = (
    "/",
    "/product",
    "/product/scoring",
    "/product/routing",
    "/product/sla",
    "/customers",
    "/customers/northwind",
    "/integrations/salesforce",
    "/integrations/hubspot",
    "/security",
    "/blog/lead-scoring-101",
    "/blog/mql-vs-sql",
    "/blog/speed-to-lead",
    "/blog/fair-lead-routing",
    "/docs/api",
    "/about",
    "/careers",
)
# The product pages a researching buyer reads (the default model's "Product page views" rule matches /product*).
PRODUCT_PATHS = ("/product", "/product/scoring", "/product/routing", "/product/sla", "/product/integrations")
# What a buying committee reads during an opportunity.
EVALUATION_PATHS = (
    "/security",
    "/security/compliance",
    "/integrations/salesforce",
    "/integrations/hubspot",
    "/customers",
    "/product/scoring",
    "/docs/api",
)
# What a new customer's champion reads while the team is onboarded.
ONBOARDING_PATHS = (
    "/docs/getting-started",
    "/docs/api",
    "/product/scoring",
    "/product/routing",
    "/integrations/salesforce",
)
ONBOARDING_WEBINAR = "Onboarding: your first scoring model"
# Forms that create a lead without asking for sales (a contact-sales form is a hand-raiser, see journey.py).
SIGN_UP_FORMS = ("Newsletter sign-up", "Guide download", "Webinar registration", "ROI calculator")
EMAIL_CAMPAIGNS = (
    "Monthly newsletter",
    "Nurture: lead scoring basics",
    "Nurture: fair routing",
    "Nurture: SLAs sales and marketing agree on",
    "Product update",
    "Event invitation",
    "Case study: Northwind",
)
CONTENT_ASSETS = (
    "Guide: Lead scoring that sales trusts",
    "Report: State of Sales Ops",
    "Checklist: the marketing-sales SLA",
    "Template: BANT discovery call",
    "E-book: Speed to lead",
    "Case study: 40 reps, twice the SQL acceptance",
)
WEBINARS = (
    "Lead scoring that sales trusts",
    "Fair lead routing at scale",
    "From MQL to revenue: SLA design",
    "Calibrating cut-offs with real outcomes",
)
COMPARED_COMPETITORS = ("HubSpot", "Salesforce", "Marketo", "LeanData")
TRADE_SHOWS = ("SaaStr Annual", "Dreamforce", "INBOUND", "B2B Marketing Expo", "SaaStock")
PARTNERS = ("Northwind Consulting", "Contoso Partners", "Fabrikam Solutions")

INTENT_TOPICS = (
    "lead scoring",
    "sales automation",
    "CRM software",
    "revenue operations",
    "sales engagement",
    "marketing automation",
    "lead routing",
    "pipeline management",
    "predictive analytics",
)
INTENT_PROVIDERS = ("Bombora", "G2", "TechTarget", "6sense")

# Reasons as reps write them; the KPIs group rejections and losses by these.
SDR_REJECTION_REASONS = (
    "No budget this year",
    "No project in the next 12 months",
    "Already under contract with a competitor",
    "Could not reach after 6 attempts",
    "Duplicate of an existing lead",
)
WRONG_PERSONA = "Wrong persona"
TOO_SMALL = "Company too small for our offering"
AE_RETURN_REASONS = (
    "AE returned: no decision maker involved",
    "AE returned: not ready to buy",
    "AE returned: budget not confirmed",
    "AE returned: no clear pain",
)
BAD_DATA_REASONS = ("Bad data: e-mail bounced", "Bad data: fake name", "Bad data: company out of business")
LOSS_REASONS = (
    "Lost to competitor",
    "No decision / status quo",
    "Price too high",
    "Timing: project postponed",
    "Champion left the company",
    "Missing feature",
)
CALL_OUTCOMES = ("Connected", "Left voicemail", "No answer", "Connected", "Call back later")
EMAIL_OUTCOMES = ("Sent", "Sent", "Replied", "Sent", "Bounced")
MEETING_OUTCOMES = ("Held", "Held", "Held", "No-show")
PRODUCTS_BY_SEGMENT = {"smb": "LeadOps Team", "mid_market": "LeadOps Business", "enterprise": "LeadOps Enterprise"}
# Median deal size per segment (lognormal around it).
DEAL_SIZE_BY_SEGMENT = {"smb": 12_000, "mid_market": 45_000, "enterprise": 180_000}
# Median sales cycle in days per segment.
SALES_CYCLE_DAYS = {"smb": 25, "mid_market": 50, "enterprise": 95}
