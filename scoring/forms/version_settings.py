"""A version's weights and thresholds: the four pillar weights, the cut-offs, temperature and the borderline band."""

from __future__ import annotations

from decimal import Decimal

from crispy_forms.bootstrap import AppendedText
from crispy_forms.layout import HTML, Column, Row
from django import forms

from scoring import rules as engine
from scoring.forms.common import ServiceErrorsMixin, _helper
from scoring.services.governance import VERSION_FIELDS

# The engine names what a message is about ("thresholds.mql"); these are the inputs that hold it.
SETTINGS_ERROR_FIELDS = {
    **{f"weights.{p}": f"weight_{p}" for p in engine.PILLARS},
    "thresholds.mql": "mql_cutoff",
    "thresholds.sql_smb": "sql_cutoff_smb",
    "thresholds.sql_mid_market": "sql_cutoff_mid_market",
    "thresholds.sql_enterprise": "sql_cutoff_enterprise",
    "thresholds.hot_above": "hot_above",
    "thresholds.warm_from": "warm_from",
    "thresholds.borderline_band": "borderline_band",
    "thresholds.fast_track_fit_floor": "fast_track_fit_floor",
}


def _percent(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100)


def _points(label: str, help_text: str = "", max_value: int = 100) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=max_value, help_text=help_text)


class VersionSettingsForm(ServiceErrorsMixin, forms.Form):
    error_fields = SETTINGS_ERROR_FIELDS

    weight_fit = _percent("Fit")
    weight_engagement = _percent("Engagement")
    weight_intent = _percent("Intent")
    weight_buying = _percent("Buying signals")
    mql_cutoff = _points("MQL from")
    sql_cutoff_smb = _points("SQL · SMB")
    sql_cutoff_mid_market = _points("SQL · Mid-Market")
    sql_cutoff_enterprise = _points("SQL · Enterprise")
    hot_above = _points("Hot above")
    warm_from = _points("Warm from", "Below this a lead is cold.")
    borderline_band = _points(
        "Borderline band (±)",
        "Within this many points of its SQL cut-off a lead goes to a manager's review.",
        max_value=20,
    )
    fast_track_fit_floor = _points(
        "Fast-track fit floor",
        "A hand-raiser (demo request, contact-sales form, RFP) becomes an SQL at once only with at least this fit.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "settings_%s")
        super().__init__(*args, **kwargs)
        weights = [Column(AppendedText(f"weight_{p}", "%"), css_class="col-6 col-md-3") for p in engine.PILLARS]
        cutoffs = ["mql_cutoff", "sql_cutoff_smb", "sql_cutoff_mid_market", "sql_cutoff_enterprise"]
        self.helper = _helper(
            Row(*weights),
            HTML(
                '<h2 class="h6 mt-2 mb-1">Cut-offs</h2><p class="small text-secondary mb-2">A lead is an MQL from the '
                "MQL cut-off, and an SQL above its segment's SQL cut-off (outside the borderline band).</p>"
            ),
            Row(*(Column(name, css_class="col-6 col-md-3") for name in cutoffs)),
            HTML('<h2 class="h6 mt-2 mb-2">Temperature and review</h2>'),
            Row(*(Column(name, css_class="col-6 col-md-4") for name in ("hot_above", "warm_from", "borderline_band"))),
            HTML('<h2 class="h6 mt-2 mb-2">Hand-raisers</h2>'),
            Row(Column("fast_track_fit_floor", css_class="col-6 col-md-4")),
        )

    @staticmethod
    def initial_for(version) -> dict:
        initial = {f"weight_{p}": int(getattr(version, f"weight_{p}") * 100) for p in engine.PILLARS}
        for name in VERSION_FIELDS:
            if not name.startswith("weight_"):
                initial[name] = getattr(version, name)
        return initial

    @property
    def weight_sum(self) -> int | None:
        """What the four weights typed so far add up to, shown next to them."""
        source = self.data if self.is_bound else self.initial
        try:
            return sum(int(source.get(self.add_prefix(f"weight_{p}")) or 0) for p in engine.PILLARS)
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            engine.validate_weights({p: cleaned[f"weight_{p}"] / 100 for p in engine.PILLARS})
            engine.validate_thresholds(
                engine.Thresholds(
                    mql=cleaned["mql_cutoff"],
                    sql_smb=cleaned["sql_cutoff_smb"],
                    sql_mid_market=cleaned["sql_cutoff_mid_market"],
                    sql_enterprise=cleaned["sql_cutoff_enterprise"],
                    hot_above=cleaned["hot_above"],
                    warm_from=cleaned["warm_from"],
                    borderline_band=cleaned["borderline_band"],
                    fast_track_fit_floor=cleaned["fast_track_fit_floor"],
                )
            )
        except engine.RuleError as error:
            self.add_service_error(error)
        return cleaned

    def values(self) -> dict:
        """The settings as version_settings_update takes them: weights as fractions."""
        values = dict(self.cleaned_data)
        for p in engine.PILLARS:
            values[f"weight_{p}"] = str(Decimal(values[f"weight_{p}"]) / 100)
        return values
