"""The impact preview of a submitted version: its partial, its one-line summary, the histogram's geometry."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRefresh

from leadops.permissions import require_perm
from scoring.models import ImpactPreview
from scoring.views.common import APPROVE, EDIT, TIER_LABELS, _version_for

STAGE_CHANGES = [
    ("to_lead", "would leave 'new' as leads below the MQL cut-off"),
    ("to_mql", "would become MQLs"),
    ("to_sql", "would become SQLs and be routed"),
    ("to_review", "would go to a manager's borderline review"),
    ("to_disqualified", "would be disqualified"),
    ("to_nurture", "would fall back from MQL to nurture"),
]


@require_perm(EDIT, APPROVE)
@require_GET
def version_preview(request, version_id: int):
    version = _version_for(request.user, version_id)
    preview = getattr(version, "preview", None)
    if request.htmx and request.GET.get("poll") and preview is not None and preview.status != preview.Status.PENDING:
        # Reload the whole page: the approve button waits for the preview too.
        return HttpResponseClientRefresh()
    return render(request, "scoring/partials/_preview.html", {"version": version, **preview_context(preview)})


def preview_summary(preview: ImpactPreview | None) -> dict:
    if preview is None or preview.status != ImpactPreview.Status.DONE:
        return {"ready": False, "status": preview.get_status_display() if preview else "Not requested"}
    results = preview.results
    outcomes = results.get("outcomes", {})
    return {
        "ready": True,
        "leads": results.get("leads", 0),
        "tier_changed": results.get("tier_changed", 0),
        "to_sql": results.get("stage_changes", {}).get("to_sql", 0),
        "precision": _percent(outcomes.get("precision")),
        "lift": _times(outcomes.get("lift")),
    }


def preview_context(preview: ImpactPreview | None) -> dict:
    if preview is None:
        return {"preview": None}
    context = {"preview": preview}
    if preview.status != ImpactPreview.Status.DONE:
        return context
    results = preview.results
    tier_changes = [
        {
            "from": TIER_LABELS.get(row["from"], row["from"]),
            "to": TIER_LABELS.get(row["to"], row["to"]),
            "leads": row["leads"],
        }
        for row in results.get("tier_changes", [])
    ]
    stage_changes = results.get("stage_changes", {})
    outcomes = results.get("outcomes", {})
    context.update(
        {
            "results": results,
            "chart": histogram_chart(results.get("histogram", {})),
            "tier_changes": tier_changes,
            "stage_changes": [(stage_changes.get(key, 0), label) for key, label in STAGE_CHANGES],
            "outcomes": {
                **outcomes,
                "precision_pct": _percent(outcomes.get("precision")),
                "recall_pct": _percent(outcomes.get("recall")),
                "base_rate_pct": _percent(outcomes.get("base_rate")),
                "lift_x": _times(outcomes.get("lift")),
            },
        }
    )
    return context


def histogram_chart(histogram: dict, *, width: int = 640, height: int = 230) -> dict:
    """Bar geometry for the old vs new score distribution, drawn as inline SVG (no chart library, no CDN)."""
    buckets = histogram.get("buckets", [])
    new, old = histogram.get("new", []), histogram.get("old", [])
    left, right, top, bottom = 44, 8, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_ceiling(max([*new, *old, 1]))
    group_w = plot_w / max(len(buckets), 1)
    bar_w = group_w * 0.36

    def bar(value: int, x: float) -> dict:
        h = plot_h * value / top_value
        return {
            "x": round(x, 1),
            "y": round(top + plot_h - h, 1),
            "h": round(h, 1),
            "w": round(bar_w, 1),
            "value": value,
        }

    groups = []
    for i, label in enumerate(buckets):
        x0 = left + i * group_w + group_w * 0.12
        groups.append(
            {
                "label": label,
                "label_x": round(left + i * group_w + group_w / 2, 1),
                "old": bar(old[i] if i < len(old) else 0, x0),
                "new": bar(new[i] if i < len(new) else 0, x0 + bar_w + 2),
            }
        )
    ticks = [{"value": round(top_value * f), "y": round(top + plot_h - plot_h * f, 1)} for f in (0, 0.25, 0.5, 0.75, 1)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base_y": top + plot_h,
        "label_y": top + plot_h + 18,
        "axis_label_y": height - 2,
        "groups": groups,
        "ticks": ticks,
        "rows": list(zip(buckets, old, new, strict=False)),
    }


def _nice_ceiling(value: int) -> int:
    """A round top for the axis that splits into four whole ticks: 7 -> 8, 130 -> 160, 2400 -> 2400."""
    magnitude = 1
    while True:
        for multiple in (1, 2, 2.5, 4, 5):
            step = multiple * magnitude
            if step == int(step) and 4 * step >= value:
                return int(4 * step)
        magnitude *= 10


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _times(value) -> str:
    return "—" if value is None else f"{value:.2f}×"
