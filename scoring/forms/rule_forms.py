"""One form per kind of rule (attribute, behaviour, intent, inactivity, disqualify) and RULE_FORMS by kind."""

from __future__ import annotations

from crispy_forms.layout import Column, Row
from django import forms
from django.utils.text import slugify

from leadops.models import EventKind, LeadSource
from leadops.rules import Department, Segment, Seniority
from scoring import rules as engine
from scoring.forms.common import OPERATOR_LABELS, ServiceErrorsMixin, _helper, plain_number
from scoring.models import RULE_FIELDS, Pillar, RuleKind, ScoringRule
from scoring.services.governance import EVENT_KINDS

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
KEY_PREFIX_BY_KIND = {RuleKind.FAST_TRACK: "ft"}


class RuleForm(ServiceErrorsMixin, forms.Form):
    """One form per kind of rule; each turns its fields into the data rule_save stores."""

    kind = ""
    title = ""
    help = ""
    default_pillar = "fit"

    # No max_length here: the engine refuses an over-long name with a message that says the limit.
    name = forms.CharField(label="Name", help_text="What sales reads next to the points (up to 120 characters).")
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
        prefix = KEY_PREFIX_BY_KIND.get(data.get("kind")) or KEY_PREFIX.get(data.get("pillar", ""), "rule")
        base = f"{prefix}-{slugify(data['name'])}"[:54].strip("-")
        taken = set(self.version.rules.values_list("key", flat=True))
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        return key


class ConditionFieldsMixin:
    """Field / operator / value, shared by attribute and disqualify rules."""

    range_end_field = "value_max"

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


class FastTrackRuleForm(RuleForm):
    kind = RuleKind.FAST_TRACK
    title = "Fast-track rule (hand-raiser)"
    help = (
        "A matching event makes a lead an SQL at once, whatever its total, when it is not disqualified and its fit "
        "reaches the version's fast-track floor (demo request, contact-sales form, RFP)."
    )
    default_pillar = ""

    event_kind = forms.ChoiceField(label="Event", choices=[("", "Choose an event…"), *EventKind.CHOICES])
    property_name = forms.CharField(
        label="Only when property", required=False, max_length=40, help_text="Optional, e.g. form."
    )
    property_value = forms.CharField(
        label="starts with", required=False, max_length=200, help_text="e.g. contact (ignores case)."
    )
    within_days = forms.IntegerField(
        label="Counts for (days)", min_value=1, max_value=365, initial=30, help_text="How recent the signal must be."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["pillar"], self.fields["points"]
        self.helper = _helper(*self.layout_rows())

    def layout_rows(self):
        if "pillar" in self.fields:  # RuleForm.__init__ builds a first layout before the fields are trimmed
            return []
        return [
            Row(Column("name", css_class="col-md-8"), Column("within_days", css_class="col-md-4")),
            Row(
                Column("event_kind", css_class="col-md-4"),
                Column("property_name", css_class="col-md-4"),
                Column("property_value", css_class="col-md-4"),
            ),
        ]

    def initial_for(self, rule):
        return {
            "name": rule.name,
            "event_kind": rule.event_kind,
            "property_name": rule.property_name,
            "property_value": rule.property_value,
            "within_days": rule.within_days,
        }

    def rule_data(self):
        c = self.cleaned_data
        return {
            **super().rule_data(),
            "pillar": "",
            "points": 0,
            "event_kind": c["event_kind"],
            "property_name": c["property_name"].strip(),
            "property_value": c["property_value"].strip(),
            "within_days": c["within_days"],
        }


RULE_FORMS: dict[str, type[RuleForm]] = {
    form.kind: form
    for form in (
        AttributeRuleForm,
        BehaviourRuleForm,
        IntentRuleForm,
        InactivityRuleForm,
        DisqualifyRuleForm,
        FastTrackRuleForm,
    )
}
