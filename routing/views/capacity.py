"""The capacity planning page: the planned load per rep, and each rep's load this month against capacity and the
50-100 benchmark. Admins see every rep, managers their team."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.shortcuts import render
from django.utils import timezone

from leadops.permissions import has_role_perm, require_perm
from leadops.selectors import lead_list
from routing import planning, selectors
from routing.forms import CapacityForm


@require_perm(planning.ALL, planning.TEAM)
def capacity(request):
    now = timezone.now()
    today = timezone.localdate()
    month = selectors.month_of(today)
    rows = planning.rep_loads(user=request.user, month=month, today=today)
    taking = [r for r in rows if r.active and not r.out_of_office]
    recent_sqls = lead_list(user=request.user).filter(sql_at__gte=now - timedelta(days=30)).count()
    defaults = {"monthly_leads": recent_sqls, "factor": Decimal("1.0"), "reps": max(len(taking), 1)}
    form = CapacityForm(request.GET if "monthly_leads" in request.GET else None, initial=defaults)
    values = form.cleaned_data if form.is_bound and form.is_valid() else defaults
    load = planning.rep_load(monthly_leads=values["monthly_leads"], factor=values["factor"], reps=values["reps"])
    spread = planning.spread(rows)
    return render(
        request,
        "routing/capacity.html",
        {
            "form": form,
            "values": values,
            "load": load,
            "can_configure": has_role_perm(request.user, planning.ALL),
            "factor_text": planning.factor_text(values["factor"]),
            "load_band": planning.band(load),
            "rows": rows,
            "spread": spread,
            "month": month,
            "recent_sqls": recent_sqls,
            "low": planning.BENCHMARK_LOW,
            "high": planning.BENCHMARK_HIGH,
            "bar_max": max([planning.BENCHMARK_HIGH, *[max(r.assigned, r.capacity) for r in rows]]),
        },
    )
