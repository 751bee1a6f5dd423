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
