"""Marketing's feedback view: the SQLs SDRs rejected over a period, by reason, by source and by the score they had,
each count leading to the rejections behind it and their leads, so scoring can be fixed where it sends bad leads.
AE returns are shown apart. Marketing and RevOps see every team's, a manager their team's (leadops lead_list)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from handoff import selectors_team
from handoff.models import RejectionKind
from leadops.models import LeadSource
from leadops.permissions import require_perm
from leadops.rules import Stage

DEFAULT_DAYS = 30
MAX_DAYS = 731
QUICK_PERIODS = (7, 30, 90, 365)
PAGE_SIZE = 50
KIND_LABELS = {RejectionKind.SDR_REJECT: "Rejected by SDRs", RejectionKind.AE_RETURN: "Returned by AEs"}
FILTERS = ("kind", "reason", "source", "band")


class RejectionFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(required=False, choices=[("", "")] + list(RejectionKind.choices))
    reason = forms.SlugField(required=False, max_length=40)
    source = forms.ChoiceField(required=False, choices=[("", "")] + LeadSource.CHOICES)
    band = forms.ChoiceField(required=False, choices=[("", "")] + list(selectors_team.BAND_LABELS.items()))

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        until = data.get("until") or self.today
        since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if "since" in self.errors or "until" in self.errors:
            return data
        if since > until:
            self.add_error("since", "The period starts after it ends.")
        elif (until - since).days >= MAX_DAYS:
            self.add_error("since", f"Choose a period of at most {MAX_DAYS} days.")
        data["since"], data["until"] = since, until
        data["kind"] = data.get("kind") or RejectionKind.SDR_REJECT
        return data


def _query(params: dict, **changes) -> str:
    merged = {**params, **changes}
    if merged.get("kind") == RejectionKind.SDR_REJECT:
        merged.pop("kind")
    return "?" + urlencode({key: value for key, value in merged.items() if value})


@require_perm("leadops.view_all_leads", "leadops.view_team_leads")
def rejections(request):
    today = timezone.localdate()
    form = RejectionFilterForm(request.GET, today=today)
    if form.is_valid():
        chosen = form.cleaned_data
    else:
        # Bad input is shown on its field; meanwhile the page shows the last 30 days, unfiltered.
        chosen = {"until": today, "since": today - timedelta(days=DEFAULT_DAYS - 1), "kind": RejectionKind.SDR_REJECT}
    since, until, kind = chosen["since"], chosen["until"], chosen["kind"]
    reason, source, band = chosen.get("reason", ""), chosen.get("source", ""), chosen.get("band", "")

    period = selectors_team.rejection_list(user=request.user, since=since, until=until)
    sdr_filters = {"reason": reason, "source": source, "band": band} if kind == RejectionKind.SDR_REJECT else {}
    breakdown = selectors_team.rejection_breakdown(period, **sdr_filters)
    base = {"since": since.isoformat(), "until": until.isoformat()}
    params = {**base, "kind": kind, "reason": reason, "source": source, "band": band}
    for facet in breakdown["facets"]:
        facet.testid = f"facet-{facet.name}"
        for cell in facet.cells:
            # A chosen cell's link lets go of it; any other narrows the list to it (keeping the other choices).
            cell.url = _query({**base, **sdr_filters}, **{facet.name: "" if cell.selected else cell.key})
    breakdown["returns"].testid = "facet-returns"
    for cell in breakdown["returns"].cells:
        cell.selected = kind == RejectionKind.AE_RETURN and cell.key == reason
        cell.url = _query(base, kind=RejectionKind.AE_RETURN, reason="" if cell.selected else cell.key)

    listed = selectors_team.rejections_filtered(period, kind=kind, reason=reason, source=source, band=band)
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    source_labels = dict(LeadSource.CHOICES)
    for rejection in page.object_list:
        rejection.source_label = source_labels.get(rejection.source, rejection.source)
        rejection.to_stage_label = Stage.LABELS.get(rejection.to_stage, rejection.to_stage)
    return render(
        request,
        "handoff/rejections.html",
        {
            "form": form,
            "since": since,
            "until": until,
            "kind": kind,
            "kind_label": KIND_LABELS[kind],
            "chosen": [
                (label, value_label, _query(params, **{name: ""}))
                for name, label, value_label in (
                    ("reason", "reason", _reason_label(breakdown, reason)),
                    ("source", "source", source_labels.get(source, source)),
                    ("band", "score", selectors_team.BAND_LABELS.get(band, band)),
                )
                if chosen.get(name)
            ],
            "breakdown": breakdown,
            "facet_cards": [*breakdown["facets"], breakdown["returns"]],
            "score_bands": [label for _, label, _, _ in selectors_team.SCORE_BANDS],
            "page": page,
            "page_query": _query(params),
            "clear_url": _query(base),
            "quick_periods": [
                (days, _query({}, since=(today - timedelta(days=days - 1)).isoformat(), until=today.isoformat()))
                for days in QUICK_PERIODS
            ],
            "is_default_period": until == today and (until - since).days == DEFAULT_DAYS - 1,
            # The list filters survive a change of period.
            "hidden_filters": [(name, value) for name, value in params.items() if name not in base and value]
            if form.is_valid()
            else [],
        },
    )


def _reason_label(breakdown: dict, code: str) -> str:
    for cell in [*breakdown["facets"][0].cells, *breakdown["returns"].cells]:
        if cell.key == code:
            return cell.label
    return code
