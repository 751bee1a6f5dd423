"""Lead source labels of Salesforce (LeadSource picklist) and HubSpot (Original Source) onto LeadOps' LeadSource.

Pure. An unknown label is not an error: the lead gets "other" and the label is kept as its source detail.
"""

from __future__ import annotations

import re

from leadops.models import LeadSource

OTHER = "other"
SOURCE_DETAIL_MAX_LENGTH = 200

_SOURCE_BY_LABEL: dict[str, str] = {
    # Salesforce's standard LeadSource picklist.
    "web": "web",
    "phone inquiry": "other",
    "partner referral": "partner",
    "purchased list": "list_import",
    "other": "other",
    # LeadOps has no display-advertising source; paid search is the nearest paid-media bucket, and the label stays
    # in source_detail so reports can still split it out.
    "advertisement": "paid_search",
    "employee referral": "referral",
    "external referral": "referral",
    "partner": "partner",
    "public relations": "other",
    "seminar internal": "event",
    "seminar partner": "event",
    "trade show": "event",
    "word of mouth": "referral",
    # Values orgs commonly add to that picklist.
    "webinar": "webinar",
    "email": "email",
    "cold call": "outbound",
    "outbound": "outbound",
    "content syndication": "content",
    "event": "event",
    "conference": "event",
    "linkedin": "social",
    "social media": "social",
    "google adwords": "paid_search",
    # HubSpot Original Source, as labels and as the internal values of API exports (ORGANIC_SEARCH, ...).
    "organic search": "organic_search",
    "paid search": "paid_search",
    "email marketing": "email",
    "organic social": "social",
    "paid social": "social",
    "referrals": "referral",
    "ai referrals": "referral",
    "other campaigns": "other",
    "direct traffic": "web",
    # Offline sources are imports, integrations and records typed in by hand: nothing says which, so "other".
    "offline sources": "other",
    "offline": "other",
}


def _label_key(label: str) -> str:
    # "Seminar - Internal", "SEMINAR_INTERNAL" and "seminar internal" are the same label.
    return " ".join(re.sub(r"[\s_\-/]+", " ", label).split()).casefold()


# A file may already use LeadOps' own values or labels (an export from LeadOps itself, or a hand-made sheet).
for _value, _label in LeadSource.CHOICES:
    _SOURCE_BY_LABEL.setdefault(_label_key(_value), _value)
    _SOURCE_BY_LABEL.setdefault(_label_key(_label), _value)


def source_for_label(label: str) -> tuple[str, str]:
    """(LeadOps source, source detail) for a CRM's source label; ("other", "") for an empty one.

    The original label is kept as the detail whenever there is one: several CRM labels share one LeadOps source
    (Trade Show and Seminar are both events), and the detail is what tells them apart.
    """
    label = " ".join(label.split())
    if not label:
        return OTHER, ""
    # The detail column holds 200 characters; a longer label is still recognisable from its start.
    return _SOURCE_BY_LABEL.get(_label_key(label), OTHER), label[:SOURCE_DETAIL_MAX_LENGTH]
