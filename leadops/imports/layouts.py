"""The CSV export layouts LeadOps can read, and how a file's header line is recognised as one of them.

Pure: strings in, a column map or an explanation out. No ORM, no settings.
"""

from __future__ import annotations

from dataclasses import dataclass

# The lead attributes an import can fill. Each layout says which of its columns carry them.
EMAIL = "email"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
COMPANY = "company"
TITLE = "title"
PHONE = "phone"
WEBSITE = "website"
INDUSTRY = "industry"
ANNUAL_REVENUE = "annual_revenue"
EMPLOYEES = "employees"
COUNTRY = "country"
EXTERNAL_ID = "external_id"
CREATED_DATE = "created_date"
SOURCE = "source"
OPTED_OUT = "opted_out"
MARKETING_STATUS = "marketing_status"


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    crm: str
    # Attribute -> the column names that carry it, best first. When a file has several of them, each row takes the
    # first one that is filled in (Phone, else MobilePhone).
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # Columns these exports always have but LeadOps does not read; they only help tell the layouts apart.
    signature: tuple[str, ...] = ()
    # Salesforce requires a last name and a company on every lead, so a row of its export with neither is broken
    # (shifted columns, a cut line) rather than a real lead. HubSpot requires neither: a subscriber may be only an
    # e-mail address.
    needs_last_name_or_company: bool = False

    def required_columns(self) -> list[str]:
        return [self.columns[attribute][0] for attribute in self.required]

    def recognised_columns(self) -> list[str]:
        return [names[0] for names in self.columns.values()]


SALESFORCE = Layout(
    key="salesforce",
    label="Salesforce lead export",
    crm="Salesforce",
    columns={
        EMAIL: ("Email",),
        FIRST_NAME: ("FirstName",),
        LAST_NAME: ("LastName",),
        COMPANY: ("Company",),
        TITLE: ("Title",),
        PHONE: ("Phone", "MobilePhone"),
        WEBSITE: ("Website",),
        INDUSTRY: ("Industry",),
        ANNUAL_REVENUE: ("AnnualRevenue",),
        EMPLOYEES: ("NumberOfEmployees",),
        COUNTRY: ("Country", "CountryCode"),
        EXTERNAL_ID: ("Id",),
        CREATED_DATE: ("CreatedDate",),
        SOURCE: ("LeadSource",),
        OPTED_OUT: ("HasOptedOutOfEmail",),
    },
    required=(EMAIL,),
    signature=("IsDeleted", "Salutation", "Status", "Rating", "OwnerId", "IsConverted", "ConvertedDate", "DoNotCall"),
    needs_last_name_or_company=True,
)

# HubSpot exports use the property labels; exports made through the API use the internal names (the label to
# property table HubSpot documents), so both are accepted.
HUBSPOT = Layout(
    key="hubspot",
    label="HubSpot contacts export",
    crm="HubSpot",
    columns={
        EMAIL: ("Email",),
        FIRST_NAME: ("First Name", "firstname"),
        LAST_NAME: ("Last Name", "lastname"),
        COMPANY: ("Company Name", "company"),
        TITLE: ("Job Title", "jobtitle"),
        PHONE: ("Phone Number", "phone", "Mobile Phone Number", "mobilephone"),
        WEBSITE: ("Website URL", "website", "Company domain name"),
        INDUSTRY: ("Industry",),
        ANNUAL_REVENUE: ("Annual Revenue", "annualrevenue"),
        EMPLOYEES: ("Number of Employees", "numemployees"),
        COUNTRY: ("Country/Region", "country"),
        EXTERNAL_ID: ("Record ID", "hs_object_id", "Contact ID"),
        CREATED_DATE: ("Create Date", "createdate", "Object create date/time"),
        SOURCE: ("Original Source", "hs_analytics_source"),
        OPTED_OUT: ("Unsubscribed from all email", "hs_email_optout"),
        MARKETING_STATUS: ("Marketing contact status", "hs_marketable_status"),
    },
    required=(EMAIL,),
    signature=("Lifecycle Stage", "Lead Status", "Contact owner", "HubSpot Score", "Last Activity Date"),
)

LAYOUTS: tuple[Layout, ...] = (SALESFORCE, HUBSPOT)


def header_key(name: str) -> str:
    """How a header cell is compared: case-insensitive, blind to spacing ("First Name" = " first  name")."""
    return "".join(name.replace("\ufeff", "").split()).casefold()


def _spelled_key(name: str) -> str:
    """Case-insensitive but keeping word breaks, so that "First Name" (HubSpot) and "FirstName" (Salesforce) differ
    when deciding which export a file came from."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Column:
    index: int
    name: str  # as spelled in the file, for error reports


@dataclass(frozen=True)
class ColumnMap:
    layout: Layout
    # Attribute -> the file's columns that carry it, in the layout's order of preference.
    columns: dict[str, tuple[Column, ...]]


class UnrecognisedHeader(ValueError):
    """The header line matches no supported layout; the message says what is supported and what is missing."""


def _columns_for(layout: Layout, header: list[str]) -> dict[str, tuple[Column, ...]]:
    index_by_key: dict[str, int] = {}
    for index, name in enumerate(header):
        # A repeated header keeps its first column, as spreadsheet tools do when they look a name up.
        index_by_key.setdefault(header_key(name), index)
    found: dict[str, tuple[Column, ...]] = {}
    for attribute, names in layout.columns.items():
        indexes = []
        for name in names:
            index = index_by_key.get(header_key(name))
            if index is not None and index not in indexes:
                indexes.append(index)
        if indexes:
            found[attribute] = tuple(Column(index, header[index].replace("\ufeff", "").strip()) for index in indexes)
    return found


def _resemblance(layout: Layout, header: list[str]) -> int:
    """How many of the file's columns are spelled exactly as this layout spells them (case aside)."""
    known = {_spelled_key(name) for names in layout.columns.values() for name in names}
    known |= {_spelled_key(name) for name in layout.signature}
    return sum(1 for name in header if _spelled_key(name) in known)


def detect_layout(header: list[str]) -> ColumnMap:
    """The layout a header line belongs to, with the file's column for each attribute.

    A layout qualifies when the file has all its required columns; of those that qualify, the one whose column
    names the file spells most alike wins, Salesforce first on a tie (the columns the two share mean the same).
    """
    candidates = []
    missing_by_layout = []
    for layout in LAYOUTS:
        columns = _columns_for(layout, header)
        missing = [layout.columns[attribute][0] for attribute in layout.required if attribute not in columns]
        if missing:
            missing_by_layout.append((layout, missing))
        else:
            candidates.append((_resemblance(layout, header), layout, columns))
    if not candidates:
        raise UnrecognisedHeader(_unrecognised_message(header, missing_by_layout))
    best_score = max(score for score, _, _ in candidates)
    _, layout, columns = next(candidate for candidate in candidates if candidate[0] == best_score)
    return ColumnMap(layout=layout, columns=columns)


def _unrecognised_message(header: list[str], missing_by_layout: list[tuple[Layout, list[str]]]) -> str:
    shown = [name.strip() for name in header if name.strip()][:8]
    first_line = ", ".join(f"'{name}'" for name in shown) or "nothing"
    if len([name for name in header if name.strip()]) > len(shown):
        first_line += ", ..."
    missing = "; ".join(f"{layout.label}: missing {', '.join(names)}" for layout, names in missing_by_layout)
    return (
        f"The first line of the file is not the header of a supported export ({missing}). "
        f"LeadOps reads {supported_layouts_text()}. The first line has: {first_line}."
    )


def supported_layouts_text() -> str:
    return " and ".join(
        f"a {layout.label} (required column: {', '.join(layout.required_columns())})" for layout in LAYOUTS
    )
