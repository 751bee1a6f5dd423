"""What the scoring forms share: operator labels, plain numbers, and service errors shown on their field."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout

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


def plain_number(value):
    """25.0 -> 25, so forms, diffs and stored JSON read like what a person typed."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ServiceErrorsMixin:
    """Shows a RuleError / GovernanceError on the field it names (`error.field`), else above the form.

    `error_fields` maps the engine's field names to this form's where they differ ("thresholds.mql" ->
    "mql_cutoff"); the upper end of a range (`error.index` 1) has its own input in `range_end_field`.
    """

    error_fields: dict[str, str] = {}
    range_end_field = ""

    def add_service_error(self, error: Exception) -> None:
        about = getattr(error, "field", "") or ""
        name = self.error_fields.get(about, about)
        if name == "value" and getattr(error, "index", None) == 1 and self.range_end_field in self.fields:
            name = self.range_end_field
        if name and name in self.fields:
            if name not in self.errors:  # keep the field's own error when it has one already
                self.add_error(name, str(error))
            return
        self.add_error(None, str(error))

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
