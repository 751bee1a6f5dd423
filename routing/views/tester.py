"""The dry-run tester page: one lead, or a batch (a lead filter or an import file), routed on the draft and on the
published set-up side by side. Nothing is assigned, recorded or counted."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from leadops.imports.parsing import ImportFileError, parse_leads_file
from leadops.permissions import require_perm
from leadops.selectors import lead_list
from routing import forms as routing_forms
from routing import selectors, services_setup, tester

CONFIGURE = services_setup.CONFIGURE
ROWS_SHOWN = 50


def _one(request, form, spec, now):
    data = form.cleaned_data
    query = (data.get("lead") or "").strip()
    if query:
        leads = lead_list(user=request.user)
        lead = leads.filter(pk=int(query)).first() if query.isdigit() else leads.filter(email=query.lower()).first()
        if lead is None:
            form.add_error("lead", f"No lead '{query}' is visible to you; use its id or its e-mail address.")
            return None
        subjects = tester.leads_from_ids([lead.pk])
    else:
        subjects = [
            tester.described_lead(
                now=now,
                country=data.get("country") or "",
                region=data.get("region") or "",
                industry=data.get("industry") or "",
                employees=data.get("employees"),
                revenue=data.get("revenue"),
                score=data.get("score"),
                fit=data.get("fit"),
                temperature=data.get("temperature") or "",
                signal_days_ago=data.get("signal_days_ago"),
                label=_described(data),
            )
        ]
    return tester.compare(spec, subjects, now=now)


def _described(data) -> str:
    parts = [data.get("country"), data.get("region"), data.get("industry")]
    if data.get("employees") is not None:
        parts.append(f"{data['employees']:,} employees")
    if data.get("revenue") is not None:
        parts.append(f"${data['revenue']:,.0f} revenue")
    parts.append(f"score {data.get('score') if data.get('score') is not None else '—'}")
    parts.append(f"fit {data.get('fit') if data.get('fit') is not None else '—'}")
    if data.get("temperature"):
        parts.append(data["temperature"])
    signal = data.get("signal_days_ago")
    parts.append("no signal" if signal is None else f"last signal {signal} days ago")
    return "Described lead: " + " · ".join(str(p) for p in parts if p)


def _filtered(request, form, spec, now):
    data = form.cleaned_data
    leads = lead_list(user=request.user)
    if data.get("stage"):
        leads = leads.filter(stage=data["stage"])
    if data.get("segment"):
        leads = leads.filter(account__segment=data["segment"])
    if data.get("territory"):
        leads = leads.filter(routing_decisions__territory_id=int(data["territory"])).distinct()
    ids = list(leads.order_by("sql_at", "pk").values_list("pk", flat=True)[: data["limit"]])
    if not ids:
        form.add_error(None, "No lead matches this filter.")
        return None
    return tester.compare(spec, tester.leads_from_ids(ids), now=now)


def _file(request, form, spec, now):
    data = form.cleaned_data
    try:
        parsed = parse_leads_file(data["file"].read(), now=now, encoding=data["encoding"])
    except ImportFileError as error:
        form.add_error("file", str(error))
        return None
    if not parsed.rows:
        form.add_error("file", "No row of this file could be read; the import page lists each row's problem.")
        return None
    subjects = tester.leads_from_file(
        parsed,
        now=now,
        score=data["score"],
        fit=data["fit"],
        temperature=data["temperature"],
        signal_days_ago=data["signal_days_ago"],
    )
    comparison = tester.compare(spec, subjects, now=now)
    comparison.skipped_rows = parsed.bad_rows
    return comparison


@require_perm(CONFIGURE)
def tester_page(request):
    spec, draft = services_setup.setup_current()
    now = timezone.now()
    territories = selectors.territory_list()
    mode = request.POST.get("mode", "one") if request.method == "POST" else request.GET.get("mode", "one")
    one = routing_forms.DescribeLeadForm(request.POST if mode == "one" and request.method == "POST" else None)
    filtered = routing_forms.LeadFilterForm(
        request.POST if mode == "filter" and request.method == "POST" else None, territories=territories
    )
    upload = routing_forms.BatchFileForm(
        request.POST if mode == "file" and request.method == "POST" else None,
        request.FILES if mode == "file" and request.method == "POST" else None,
    )
    comparison = None
    if request.method == "POST":
        form, run = {"one": (one, _one), "filter": (filtered, _filtered), "file": (upload, _file)}.get(
            mode, (one, _one)
        )
        if form.is_valid():
            comparison = run(request, form, spec, now)
    context = {
        "draft": draft,
        "mode": mode,
        "one": one,
        "filtered": filtered,
        "upload": upload,
        "comparison": comparison,
        "rows_shown": ROWS_SHOWN,
        "tab": "tester",
    }
    if request.htmx:
        return render(request, "routing/setup/partials/_tester_forms.html", context)
    return render(request, "routing/setup/tester.html", context)
