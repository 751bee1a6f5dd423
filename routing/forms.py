"""Forms of the routing pages. They read and shape input; the territory, member and calendar checks are
routing.rules' (through routing.services_setup), and their problems come back on the field they name."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from leadops import roles
from leadops.imports.parsing import ENCODING_CHOICES
from leadops.models import Account, Team, Temperature
from leadops.rules import Stage
from routing import rules
from routing.models import DisputeOutcome, MemberRole

SEGMENT_CHOICES = [
    ("smb", "SMB (1-99 employees)"),
    ("mid_market", "Mid-Market (100-999)"),
    ("enterprise", "Enterprise (1,000+)"),
]
DAY_LABELS = dict(
    zip(rules.WEEKDAYS, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], strict=True)
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n;]", text or "") if part.strip()]


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def people():
    return get_user_model().objects.filter(is_active=True, profile__isnull=False).order_by("first_name", "username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class TerritoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    priority = forms.IntegerField(required=False, help_text="1 is looked at first. Empty: after the last one.")
    # Not required here: the set-up service names a missing team along with every other problem at once.
    team = forms.ModelChoiceField(
        queryset=Team.objects.select_related("manager"),
        required=False,
        help_text="Its manager owns the overflow queue.",
    )
    active = forms.BooleanField(required=False, initial=True, help_text="Inactive territories match no lead.")
    countries = forms.CharField(
        required=False, help_text="ISO codes separated by commas, e.g. DE, FR, AT. Empty: any country."
    )
    regions = forms.CharField(required=False, help_text="e.g. EMEA. Empty: any region.")
    industries = forms.CharField(required=False, help_text="e.g. Software, Manufacturing. Empty: any industry.")
    segments = forms.MultipleChoiceField(
        choices=SEGMENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: any."
    )
    employees_min = forms.IntegerField(required=False, label="Employees from")
    employees_max = forms.IntegerField(required=False, label="Employees up to")
    revenue_min = forms.DecimalField(required=False, label="Annual revenue from ($)", max_digits=16, decimal_places=2)
    revenue_max = forms.DecimalField(required=False, label="Annual revenue up to ($)", max_digits=16, decimal_places=2)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="e.g. Europe/Berlin, America/New_York.")
    holidays_country = forms.CharField(
        max_length=5, required=False, label="Public holidays of", help_text="An ISO country code, e.g. DE. Empty: none."
    )
    holidays = forms.CharField(
        required=False,
        label="Company days off",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Dates as YYYY-MM-DD, separated by commas or lines.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in rules.WEEKDAYS:
            label = DAY_LABELS[day]
            self.fields[f"{day}_start"] = forms.TimeField(required=False, label=f"{label} from", widget=_time_input())
            self.fields[f"{day}_end"] = forms.TimeField(required=False, label=f"{label} until", widget=_time_input())
            self.fields[f"{day}_break_start"] = forms.TimeField(
                required=False, label=f"{label} break from", widget=_time_input()
            )
            self.fields[f"{day}_break_end"] = forms.TimeField(
                required=False, label=f"{label} break until", widget=_time_input()
            )

    def day_rows(self):
        return [
            {
                "day": day,
                "label": DAY_LABELS[day],
                "fields": [self[f"{day}_{part}"] for part in ("start", "end", "break_start", "break_end")],
            }
            for day in rules.WEEKDAYS
        ]

    def clean(self):
        data = super().clean()
        for day in rules.WEEKDAYS:
            start, end = data.get(f"{day}_start"), data.get(f"{day}_end")
            pause = data.get(f"{day}_break_start"), data.get(f"{day}_break_end")
            if (start is None) != (end is None):
                self.add_error(
                    f"{day}_end" if start else f"{day}_start", "Give both the start and the end, or neither."
                )
            if (pause[0] is None) != (pause[1] is None):
                self.add_error(f"{day}_break_end", "Give both ends of the break, or neither.")
            elif pause[0] is not None and start is None:
                self.add_error(f"{day}_break_start", "A break needs working hours around it.")
        return data

    def calendar(self) -> dict:
        data = self.cleaned_data
        hours = {}
        for day in rules.WEEKDAYS:
            start, end = data.get(f"{day}_start"), data.get(f"{day}_end")
            if start is None or end is None:
                continue
            pause_start, pause_end = data.get(f"{day}_break_start"), data.get(f"{day}_break_end")
            clock = "{:%H:%M}".format
            if pause_start and pause_end:
                hours[day] = [[clock(start), clock(pause_start)], [clock(pause_end), clock(end)]]
            else:
                hours[day] = [[clock(start), clock(end)]]
        return {
            "time_zone": data.get("time_zone", "").strip(),
            "weekly_hours": hours,
            "holidays_country": (data.get("holidays_country") or "").strip().upper(),
            "holidays": _split(data.get("holidays")),
        }

    def territory_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "priority": data.get("priority"),
            "team_id": data["team"].pk if data.get("team") else None,
            "active": data.get("active", False),
            "countries": [code.upper() for code in _split(data.get("countries"))],
            "regions": _split(data.get("regions")),
            "industries": _split(data.get("industries")),
            "segments": list(data.get("segments") or []),
            "employees_min": data.get("employees_min"),
            "employees_max": data.get("employees_max"),
            "revenue_min": data.get("revenue_min"),
            "revenue_max": data.get("revenue_max"),
            "calendar": self.calendar(),
        }

    @classmethod
    def initial_for(cls, territory: dict) -> dict:
        calendar = territory.get("calendar") or {}
        initial = {
            "name": territory["name"],
            "priority": territory["priority"],
            "team": territory["team_id"],
            "active": territory.get("active", True),
            **{name: ", ".join(territory.get(name) or []) for name in ("countries", "regions", "industries")},
            "segments": territory.get("segments") or [],
            **{name: territory.get(name) for name in ("employees_min", "employees_max", "revenue_min", "revenue_max")},
            "time_zone": calendar.get("time_zone") or "UTC",
            "holidays_country": calendar.get("holidays_country") or "",
            "holidays": ", ".join(calendar.get("holidays") or []),
        }
        for day, spans in (calendar.get("weekly_hours") or {}).items():
            if spans:
                initial[f"{day}_start"], initial[f"{day}_end"] = spans[0][0], spans[-1][1]
            if len(spans) >= 2:
                initial[f"{day}_break_start"], initial[f"{day}_break_end"] = spans[0][1], spans[1][0]
        return initial

    # Where the rules' problem keys land on this form.
    def field_for(self, key: str) -> str | None:
        if key.startswith("calendar.weekly_hours."):
            return f"{key.rsplit('.', 1)[1]}_end" if key.rsplit(".", 1)[1] in rules.WEEKDAYS else None
        mapping = {
            "team_id": "team",
            "calendar.time_zone": "time_zone",
            "calendar.holidays_country": "holidays_country",
            "calendar.holidays": "holidays",
            "calendar": None,
        }
        if key in mapping:
            return mapping[key]
        return key if key in self.fields else None


class MemberForm(forms.Form):
    user = PersonChoiceField(queryset=people(), required=False, label="Person")
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.SPECIALIST)
    weight = forms.DecimalField(initial=1, max_digits=5, decimal_places=2, help_text="2 takes twice the share.")
    monthly_capacity = forms.IntegerField(initial=80, label="Capacity / month")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people()
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select form-select-sm"
            elif not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-control form-control-sm"
        self.fields["weight"].widget.attrs["style"] = "max-width: 6rem"
        self.fields["monthly_capacity"].widget.attrs["style"] = "max-width: 7rem"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def member(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("user"):
            return None
        return {
            "user_id": data["user"].pk,
            "role": data["role"],
            "weight": data["weight"],
            "monthly_capacity": data["monthly_capacity"],
            "active": data.get("active", False),
        }


MemberFormSet = forms.formset_factory(MemberForm, extra=2, can_delete=True)


def member_initial(territory: dict) -> list[dict]:
    return [
        {
            "user": m["user_id"],
            "role": m["role"],
            "weight": m["weight"],
            "monthly_capacity": m["monthly_capacity"],
            "active": m.get("active", True),
        }
        for m in territory.get("members", [])
    ]


class NamedAccountForm(forms.Form):
    account = forms.CharField(max_length=255, help_text="The account's domain (e.g. globex.com), name or id.")
    owner = PersonChoiceField(queryset=people(), required=False, label="Owner AE", help_text="Empty: no owner.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people().filter(groups__name=roles.AE)

    def clean_account(self) -> Account:
        query = self.cleaned_data["account"].strip()
        accounts = Account.objects.all()
        found = list(accounts.filter(pk=int(query))) if query.isdigit() else list(accounts.filter(domain=query.lower()))
        found = found or list(accounts.filter(name__iexact=query)[:2])
        if not found:
            raise ValidationError(f"No account '{query}'; give its domain, its exact name or its id.")
        if len(found) > 1:
            raise ValidationError(f"Several accounts are named '{query}'; give the domain or the id.")
        return found[0]


class RepAvailabilityForm(forms.Form):
    monthly_capacity = forms.IntegerField(label="Monthly capacity (SQLs)", help_text="Benchmark 50-100.")
    out_of_office_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    out_of_office_until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: until further notice."
    )
    active = forms.BooleanField(
        required=False, label="Takes leads (active)", help_text="Switched off, the person can no longer sign in."
    )


class DescribeLeadForm(forms.Form):
    lead = forms.CharField(required=False, label="An existing lead (id or e-mail)", max_length=254)
    country = forms.CharField(required=False, max_length=100, help_text="A name or an ISO code.")
    region = forms.CharField(required=False, max_length=100)
    industry = forms.CharField(required=False, max_length=100)
    employees = forms.IntegerField(required=False, min_value=0)
    revenue = forms.DecimalField(
        required=False, min_value=0, label="Annual revenue ($)", max_digits=16, decimal_places=2
    )
    score = forms.IntegerField(required=False, min_value=0, max_value=100, initial=80)
    fit = forms.IntegerField(required=False, min_value=0, max_value=100, initial=75)
    temperature = forms.ChoiceField(choices=[("", "—"), *Temperature.CHOICES], required=False)
    signal_days_ago = forms.IntegerField(
        required=False, min_value=0, initial=2, label="Last signal (days ago)", help_text="Empty: no signal on record."
    )


class LeadFilterForm(forms.Form):
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Stage.CHOICES], required=False, initial=Stage.SQL)
    segment = forms.ChoiceField(choices=[("", "Any segment"), *SEGMENT_CHOICES], required=False)
    territory = forms.ChoiceField(required=False, label="Routed to territory")
    limit = forms.IntegerField(min_value=1, max_value=2000, initial=500, label="At most")

    def __init__(self, *args, territories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].choices = [("", "Any territory"), *[(str(t.pk), t.name) for t in territories]]


class BatchFileForm(forms.Form):
    file = forms.FileField(label="CSV file (Salesforce or HubSpot export layout)")
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial=ENCODING_CHOICES[0][0])
    score = forms.IntegerField(
        min_value=0, max_value=100, initial=80, label="Assumed score", help_text="For rows that are not known leads."
    )
    fit = forms.IntegerField(min_value=0, max_value=100, initial=75, label="Assumed fit")
    temperature = forms.ChoiceField(choices=Temperature.CHOICES, initial=Temperature.WARM, label="Assumed temperature")
    signal_days_ago = forms.IntegerField(min_value=0, initial=2, label="Assumed last signal (days ago)")


class CapacityForm(forms.Form):
    monthly_leads = forms.IntegerField(min_value=0, label="Leads per month")
    factor = forms.DecimalField(
        min_value=0,
        max_digits=4,
        decimal_places=2,
        initial=1,
        label="Routing factor",
        help_text="1.2 for a seasonal peak.",
    )
    reps = forms.IntegerField(min_value=1, label="Reps")


class DisputeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What is wrong with the assignment, e.g. the account belongs to another rep's named accounts.",
    )


class DisputeResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (DisputeOutcome.KEEP, "Keep: the lead stays with the rep"),
            (DisputeOutcome.MOVE, "Move the lead to another rep"),
            (DisputeOutcome.SPLIT, "Split the credit: the rep keeps the lead and shares the credit"),
        ],
        widget=forms.RadioSelect,
    )
    other_rep = PersonChoiceField(queryset=people(), required=False, label="Rep (move to / share credit with)")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Why")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_rep"].queryset = people()


def add_errors(form, error: ValidationError, *, field_for=None, prefix_errors: list | None = None) -> None:
    """Put a service's problems (by field) on the form's fields; what has no field goes to the form's top."""
    for key, messages in error.message_dict.items():
        name = field_for(key) if field_for else (key if key in form.fields else None)
        for message in messages:
            form.add_error(name, message)


def today_range_text(start: date | None, end: date | None) -> str:
    if not start:
        return ""
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}" if end else f"from {start:%Y-%m-%d}"
