"""Forms of the scoring pages: they check what a person typed and turn it into the data the services take.

The pure engine's own checks (scoring.rules.validate_*) run in clean(), so a page can put a problem on the field it
belongs to while the person is still typing; the services run the same checks again before anything is stored.
"""

from __future__ import annotations

from decimal import Decimal

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils.text import slugify

from leadops import selectors as lead_selectors
from leadops.models import EventKind, Lead, LeadSource
from leadops.rules import Department, Segment, Seniority
from scoring import rules as engine
from scoring.models import Pillar, RuleKind, ScoringRule
from scoring.services.governance import EVENT_KINDS, RULE_FIELDS, VERSION_FIELDS

OPERATOR_LABELS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "in": "is one of",
    "not_in": "is not one of",
    "contains": "contains",
    "between": "is between",
    "at_least": "is at least",
    "at_most": "is at most",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "is_true": "is true",
    "is_false": "is false",
}
NO_VALUE_OPERATORS = {"is_empty", "is_not_empty", "is_true", "is_false"}
FIELD_LABELS = {
    name: f"{name.split('.')[0].title()}: {name.split('.')[1].replace('_', ' ')}" for name in engine.ATTRIBUTE_FIELDS
}
# Fields whose values come from a fixed list: the form names them, since a rule on "VP" never matches "vp".
KNOWN_VALUES = {
    "lead.seniority": [value for value, _ in Seniority.CHOICES],
    "lead.department": [value for value, _ in Department.CHOICES],
    "lead.source": LeadSource.ALL,
    "account.segment": [value for value, _ in Segment.CHOICES],
}
KEY_PREFIX = {"fit": "fit", "engagement": "eng", "intent": "intent", "buying": "buy", "": "dq"}

# Which field an engine or service message is about, by a phrase it contains (checked in order).
SETTINGS_ERROR_FIELDS = [
    ("Fit weight", "weight_fit"),
    ("Engagement weight", "weight_engagement"),
    ("Intent weight", "weight_intent"),
    ("Buying signals weight", "weight_buying"),
    ("The mql threshold", "mql_cutoff"),
    ("sql smb", "sql_cutoff_smb"),
    ("sql mid market", "sql_cutoff_mid_market"),
    ("sql enterprise", "sql_cutoff_enterprise"),
    ("hot above", "hot_above"),
    ("warm from", "warm_from"),
    ("Warm must", "warm_from"),
    ("borderline band", "borderline_band"),
]
RULE_ERROR_FIELDS = [
    ("needs a name", "name"),
    ("already called", "name"),
    ("is not a pillar", "pillar"),
    ("Unknown field", "field"),
    ("cannot be used on", "operator"),
    ("points must be", "points"),
    ("Unknown event kind", "event_kind"),
    ("half-life", "half_life_days"),
    ("the cap", "cap"),
    ("minimum count", "min_count"),
    ("property filter", "property_value"),
    ("surge score", "min_surge"),
    ("seen within", "within_days"),
    ("inactivity needs", "days"),
    ("list of values", "value"),
    ("minimum and a maximum", "value"),
    ("minimum (", "value"),
    ("is not a number", "value"),
    ("needs a value", "value"),
]


def plain_number(value):
    """25.0 -> 25, so forms, diffs and stored JSON read like what a person typed."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ServiceErrorsMixin:
    """Shows a RuleError / GovernanceError message on the field it concerns, else above the form."""

    error_fields: list[tuple[str, str]] = []

    def add_service_error(self, error: Exception) -> None:
        message = str(error)
        about = self.error_text(message).lower()
        for phrase, name in self.error_fields:
            if phrase.lower() in about and name in self.fields:
                name = self.refine_error_field(name, message)
                if name not in self.errors:  # keep the field's own error when it has one already
                    self.add_error(name, message)
                return
        self.add_error(None, message)

    def error_text(self, message: str) -> str:
        return message

    def refine_error_field(self, name: str, message: str) -> str:
        return name

    def quiet_untouched(self) -> None:
        """While someone is filling the form in (inline check), leave "required" alone on fields still empty."""
        for name in list(self.errors):
            if name != "__all__" and not self.data.get(self.add_prefix(name), "").strip():
                del self.errors[name]


def _helper(*rows) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # the templates write the <form> with its htmx attributes
    helper.disable_csrf = True
    helper.layout = Layout(*rows)
    return helper


# --- weights and thresholds -------------------------------------------------------------------------------------


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


# --- rules ----------------------------------------------------------------------------------------------------


class RuleForm(ServiceErrorsMixin, forms.Form):
    """One form per kind of rule; each turns its fields into the data rule_save stores."""

    kind = ""
    title = ""
    help = ""
    error_fields = RULE_ERROR_FIELDS
    default_pillar = "fit"

    name = forms.CharField(label="Name", max_length=120, help_text="What sales reads next to the points.")
    pillar = forms.ChoiceField(label="Pillar", choices=Pillar.choices)
    points = forms.FloatField(label="Points", min_value=-100, max_value=100)

    def __init__(self, *args, version, rule: ScoringRule | None = None, **kwargs):
        self.version, self.rule = version, rule
        kwargs.setdefault("auto_id", "rule_%s")  # one rule form on a page at a time; htmx keeps focus by id
        if rule is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(rule)
        kwargs.setdefault("initial", {}).setdefault("pillar", self.default_pillar)
        super().__init__(*args, **kwargs)
        self.helper = _helper(*self.layout_rows())

    def layout_rows(self) -> list:
        return [Row(Column("name", css_class="col-md-8"), Column("pillar", css_class="col-md-4"))]

    def initial_for(self, rule: ScoringRule) -> dict:
        return {"name": rule.name, "pillar": rule.pillar, "points": plain_number(rule.points)}

    def error_text(self, message: str) -> str:
        # "Half-life bonus: points must be ..." is about the points, whatever the rule is called.
        name = getattr(self, "cleaned_data", {}).get("name") or self.data.get(self.add_prefix("name"), "")
        return message.removeprefix(f"{name.strip()}: ") if name else message

    def rule_data(self) -> dict:
        data = {"kind": self.kind, "name": self.cleaned_data["name"].strip()}
        if "pillar" in self.fields:
            data["pillar"] = self.cleaned_data["pillar"]
        if "points" in self.fields:
            data["points"] = plain_number(self.cleaned_data["points"])
        return data

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            # Still check what can be checked alone, so a half-filled form already says what is wrong so far.
            self.partial_checks()
            return cleaned
        data = self.rule_data()
        if self.rule is None:
            data["key"] = self._new_key(data)
        # Validate the rule as the engine will read it, built on an unsaved copy so nothing is written.
        probe = ScoringRule(**{f: getattr(self.rule, f) for f in RULE_FIELDS}) if self.rule else ScoringRule()
        for name, value in data.items():
            setattr(probe, name, value)
        try:
            engine.validate_rule(probe.as_engine_rule(), event_kinds=EVENT_KINDS)
        except engine.RuleError as error:
            self.add_service_error(error)
        self.data_for_service = data
        return cleaned

    def partial_checks(self) -> None:
        pass

    def _new_key(self, data: dict) -> str:
        # Keys stay fixed across versions (diffs match rules by key), so a new rule gets one from its name once.
        base = f"{KEY_PREFIX.get(data.get('pillar', ''), 'rule')}-{slugify(data['name'])}"[:54].strip("-")
        taken = set(self.version.rules.values_list("key", flat=True))
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        return key


class ConditionFieldsMixin:
    """Field / operator / value, shared by attribute and disqualify rules."""

    def _condition_fields(self):
        self.fields["field"] = forms.ChoiceField(
            label="Field", choices=[("", "Choose a field…"), *FIELD_LABELS.items()]
        )
        self.fields["operator"] = forms.ChoiceField(
            label="Condition", choices=[("", "Choose…"), *OPERATOR_LABELS.items()]
        )
        self.fields["value"] = forms.CharField(label="Value", required=False)
        self.fields["value_max"] = forms.CharField(label="To (between only)", required=False)
        field_name = self._current("field")
        op = self._current("operator")
        kind = engine.ATTRIBUTE_FIELDS.get(field_name)
        if kind:
            allowed = [label for op_name, label in OPERATOR_LABELS.items() if op_name in engine.OPERATORS_BY_KIND[kind]]
            self.fields["operator"].help_text = f"A {kind} field: {', '.join(allowed)}."
        if op in ("in", "not_in"):
            self.fields["value"].label = "Values"
            self.fields["value"].help_text = "Separated by commas, e.g. Software, Healthcare."
        elif op == "between":
            self.fields["value"].label = "From"
            self.fields["value_max"].label = "To"
            self.fields["value"].help_text = "Both ends count."
        if field_name in KNOWN_VALUES:
            hint = f"Known values: {', '.join(KNOWN_VALUES[field_name])}."
            self.fields["value"].help_text = f"{self.fields['value'].help_text} {hint}".strip()
        # The server re-renders the form when the operator changes, so only the inputs it needs are shown.
        self.show_value = op not in NO_VALUE_OPERATORS
        self.show_value_max = op in ("between", "")

    def refine_error_field(self, name: str, message: str) -> str:
        # "'lots' is not a number" is about the second end of a range when that is what says "lots".
        upper = self.data.get(self.add_prefix("value_max"), "").strip()
        if name == "value" and upper and f"'{upper}' is not a number" in message:
            return "value_max"
        return name

    def partial_checks(self) -> None:
        if "field" in self.errors or "operator" in self.errors or "value" in self.errors:
            return
        condition = self.condition_data()
        if condition["operator"] == "between" and not self.cleaned_data.get("value_max", "").strip():
            return  # the person has not reached the second end yet
        try:
            engine.validate_condition(engine.Condition(condition["field"], condition["operator"], condition["value"]))
        except engine.RuleError as error:
            self.add_service_error(error)

    def _current(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "") or ""
        return self.initial.get(name, "") or ""

    def condition_rows(self, *extra) -> list:
        with_max = self.show_value_max and self.show_value
        value_class = ("col-md-5" if with_max else "col-md-9") if self.show_value else "d-none"
        return [
            Row(Column("field", css_class="col-md-6"), Column("operator", css_class="col-md-6")),
            Row(
                Column("value", css_class=value_class),
                Column("value_max", css_class="col-md-4" if with_max else "d-none"),
                *extra,
            ),
        ]

    def condition_initial(self, rule: ScoringRule) -> dict:
        value = rule.value
        initial = {"field": rule.field, "operator": rule.operator, "value": "", "value_max": ""}
        if rule.operator == "between" and isinstance(value, list | tuple) and len(value) == 2:
            initial["value"], initial["value_max"] = (str(plain_number(v)) for v in value)
        elif isinstance(value, list | tuple):
            initial["value"] = ", ".join(str(v) for v in value)
        elif value is not None:
            initial["value"] = str(plain_number(value))
        return initial

    def condition_data(self) -> dict:
        op = self.cleaned_data["operator"]
        field_name = self.cleaned_data["field"]
        raw = self.cleaned_data.get("value", "").strip()
        if op in NO_VALUE_OPERATORS:
            value = None
        elif op in ("in", "not_in"):
            value = [part.strip() for part in raw.split(",") if part.strip()]
        elif op == "between":
            ends = [_number_or_text(raw), _number_or_text(self.cleaned_data.get("value_max", "").strip())]
            value = [end for end in ends if end != ""]  # a missing end leaves one: the engine says what is needed
        elif engine.ATTRIBUTE_FIELDS.get(field_name) == "number":
            value = _number_or_text(raw)
        else:
            value = raw
        return {"field": field_name, "operator": op, "value": value}


def _number_or_text(raw: str):
    """A number when it reads as one; otherwise the text as typed, so the engine's message can quote it."""
    try:
        return plain_number(float(raw.replace("_", "")))
    except ValueError:
        return raw


class AttributeRuleForm(ConditionFieldsMixin, RuleForm):
    kind = RuleKind.ATTRIBUTE
    title = "Attribute rule"
    help = "Points when a lead or account field meets a condition (fit: revenue band, industry, seniority…)."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._condition_fields()
        self.order_fields(["name", "pillar", "field", "operator", "value", "value_max", "points"])
        self.fields["points"].help_text = "Negative for a penalty."
        self.helper = _helper(*self.layout_rows())

    def layout_rows(self):
        if "field" not in self.fields:  # RuleForm.__init__ builds a first layout before the fields exist
            return []
        return [*super().layout_rows(), *self.condition_rows(Column("points", css_class="col-md-3"))]

    def initial_for(self, rule):
        return {**super().initial_for(rule), **self.condition_initial(rule)}

    def rule_data(self):
        return {**super().rule_data(), **self.condition_data()}


class DisqualifyRuleForm(ConditionFieldsMixin, RuleForm):
    kind = RuleKind.DISQUALIFY
    title = "Disqualify rule"
    help = "A lead meeting the condition is disqualified, whatever it scores (students, competitors, personal e-mail)."
    default_pillar = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["pillar"], self.fields["points"]
        self._condition_fields()
        self.helper = _helper(*self.layout_rows())

    def layout_rows(self):
        if "field" not in self.fields:
            return []
        return [Row(Column("name", css_class="col-md-8")), *self.condition_rows()]

    def initial_for(self, rule):
        return {"name": rule.name, **self.condition_initial(rule)}

    def rule_data(self):
        return {**super().rule_data(), "pillar": "", "points": 0, **self.condition_data()}


class BehaviourRuleForm(RuleForm):
    kind = RuleKind.BEHAVIOUR
    title = "Behaviour rule"
    help = "Points for each matching event (e-mail clicks, downloads, pricing page visits…), capped, fading with age."
    default_pillar = "engagement"

    event_kind = forms.ChoiceField(label="Event", choices=[("", "Choose an event…"), *EventKind.CHOICES])
    property_name = forms.CharField(
        label="Only when property", required=False, max_length=40, help_text="Optional, e.g. path."
    )
    property_value = forms.CharField(
        label="starts with", required=False, max_length=200, help_text="e.g. /product (ignores case)."
    )
    cap = forms.FloatField(label="Cap", help_text="Most points this rule can give.")
    half_life_days = forms.FloatField(
        label="Half-life (days)", required=False, help_text="Blank: events never lose weight."
    )
    min_count = forms.IntegerField(
        label="Counts from", min_value=1, initial=1, help_text="Events needed before any point."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].label = "Points per event"

    def layout_rows(self):
        return [
            *super().layout_rows(),
            Row(
                Column("event_kind", css_class="col-md-4"),
                Column("property_name", css_class="col-md-4"),
                Column("property_value", css_class="col-md-4"),
            ),
            Row(
                Column("points", css_class="col-6 col-md-3"),
                Column("cap", css_class="col-6 col-md-3"),
                Column("half_life_days", css_class="col-6 col-md-3"),
                Column("min_count", css_class="col-6 col-md-3"),
            ),
        ]

    def initial_for(self, rule):
        return {
            **super().initial_for(rule),
            "event_kind": rule.event_kind,
            "property_name": rule.property_name,
            "property_value": rule.property_value,
            "cap": plain_number(rule.cap),
            "half_life_days": plain_number(rule.half_life_days),
            "min_count": rule.min_count,
        }

    def rule_data(self):
        c = self.cleaned_data
        return {
            **super().rule_data(),
            "event_kind": c["event_kind"],
            "property_name": c["property_name"].strip(),
            "property_value": c["property_value"].strip(),
            "cap": plain_number(c["cap"]),
            "half_life_days": plain_number(c["half_life_days"]),
            "min_count": c["min_count"],
        }


class IntentRuleForm(RuleForm):
    kind = RuleKind.INTENT
    title = "Intent rule"
    help = "Points when a third-party intent signal (surge score) was seen recently, optionally on given topics."
    default_pillar = "intent"

    min_surge = forms.IntegerField(label="Surge score at least", min_value=0, max_value=100)
    topics = forms.CharField(label="Topics", required=False, help_text="Separated by commas; blank: any topic.")
    within_days = forms.IntegerField(label="Seen within (days)", min_value=1)

    def layout_rows(self):
        return [
            *super().layout_rows(),
            Row(
                Column("min_surge", css_class="col-md-3"),
                Column("topics", css_class="col-md-6"),
                Column("within_days", css_class="col-md-3"),
            ),
            Row(Column("points", css_class="col-md-3")),
        ]

    def initial_for(self, rule):
        return {
            **super().initial_for(rule),
            "min_surge": rule.min_surge,
            "topics": ", ".join(rule.topics or []),
            "within_days": rule.within_days,
        }

    def rule_data(self):
        c = self.cleaned_data
        topics = [t.strip() for t in c["topics"].split(",") if t.strip()]
        return {**super().rule_data(), "min_surge": c["min_surge"], "topics": topics, "within_days": c["within_days"]}


class InactivityRuleForm(RuleForm):
    kind = RuleKind.INACTIVITY
    title = "Inactivity rule"
    help = "Points (usually negative) when a lead has done nothing at all for a number of days."
    default_pillar = "engagement"

    days = forms.IntegerField(label="No activity for (days)", min_value=1)

    def layout_rows(self):
        return [
            *super().layout_rows(),
            Row(Column("days", css_class="col-md-4"), Column("points", css_class="col-md-4")),
        ]

    def initial_for(self, rule):
        return {**super().initial_for(rule), "days": rule.days}

    def rule_data(self):
        return {**super().rule_data(), "days": self.cleaned_data["days"]}


RULE_FORMS: dict[str, type[RuleForm]] = {
    form.kind: form
    for form in (AttributeRuleForm, BehaviourRuleForm, IntentRuleForm, InactivityRuleForm, DisqualifyRuleForm)
}


# --- submission, decisions, try-out, reviews -------------------------------------------------------------------


class SubmitForm(forms.Form):
    change_note = forms.CharField(
        label="Change note",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what this version changes and why; the approving manager reads it first."},
        help_text="What changes and why. The approving manager reads this first.",
    )


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        required=False,  # optional to approve; version_reject says when a rejection lacks its reason
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional when approving; required when rejecting, so marketing knows what to fix.",
    )


class TryLeadForm(forms.Form):
    lead = forms.CharField(label="Lead id or e-mail", max_length=254)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_lead(self) -> Lead:
        query = self.cleaned_data["lead"].strip()
        leads = lead_selectors.lead_list(user=self.user)
        lead = leads.filter(pk=int(query)).first() if query.isdigit() else leads.filter(email=query.lower()).first()
        if lead is None:
            raise forms.ValidationError(f"No lead '{query}' is visible to you; use its id or its e-mail address.")
        return lead


class BorderlineDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("promote", "Promote to SQL"), ("keep", "Keep as MQL")])
    note = forms.CharField(required=False, max_length=1000)


# --- rules in words ---------------------------------------------------------------------------------------------


def rule_summary(rule: ScoringRule) -> str:
    """A rule in words, as marketing and the approving manager read it."""
    if rule.kind in (RuleKind.ATTRIBUTE, RuleKind.DISQUALIFY):
        condition = rule.as_engine_rule().condition
        source = condition.field.split(".")[0]
        try:
            return f"{source}'s {condition.describe()}"
        except (TypeError, ValueError):  # a value that does not fit its operator: still show what is stored
            return f"{source}'s {condition.field} {OPERATOR_LABELS.get(condition.op, condition.op)} {condition.value}"
    if rule.kind == RuleKind.BEHAVIOUR:
        text = f"each {rule.event_kind.replace('_', ' ')}"
        if rule.property_name:
            text += f" with {rule.property_name} starting “{rule.property_value}”"
        if rule.min_count > 1:
            text += f", counted from the {_ordinal(rule.min_count)}"
        text += f"; at most {plain_number(rule.cap if rule.cap is not None else 100.0)} points"
        if rule.half_life_days:
            text += f"; half-life {plain_number(rule.half_life_days)} days"
        else:
            text += "; no decay"
        return text
    if rule.kind == RuleKind.INTENT:
        topics = ", ".join(rule.topics) if rule.topics else "any topic"
        return f"intent surge of {rule.min_surge}+ on {topics}, seen within {rule.within_days} days"
    if rule.kind == RuleKind.INACTIVITY:
        return f"no activity at all for {rule.days} days"
    return rule.kind


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
