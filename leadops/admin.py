"""Django admin for support use: people, teams and accounts are edited here; what LeadOps derives is only shown.

Scores, tier and temperature come from the active scoring version, the stage and its time stamps from the lifecycle
service, the owner from routing (reassignment will come with the SDR queue); events, intent signals, stage
transitions and the audit log are the evidence all of that is derived from. Support reads them and never writes
them by hand: a changed score would not match its explanation, a hand-made event would never reach the lead's
aggregates, a hand-made transition would have no actor. Who may use this admin site at all is Django's own business
(is_staff, is_superuser); LeadOps' roles do not depend on it (leadops.permissions).
"""

from django.contrib import admin
from django.db import transaction

from leadops.models import (
    Account,
    Activity,
    AuditEntry,
    IntentSignal,
    Lead,
    LeadEvent,
    Notification,
    NotificationPreference,
    Opportunity,
    RepProfile,
    StageTransition,
    Team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "region", "manager"]
    search_fields = ["name", "region"]
    autocomplete_fields = ["manager"]


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "team",
        "manager",
        "time_zone",
        "monthly_capacity",
        "out_of_office_from",
        "out_of_office_until",
    ]
    list_filter = ["team"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user", "manager"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "segment", "industry", "employees", "annual_revenue", "country"]
    list_filter = ["segment", "industry"]
    search_fields = ["name", "domain"]
    readonly_fields = ["segment", "created_at"]
    autocomplete_fields = ["named_account_owner"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.has_changed():  # size, revenue, industry, region: the fit of every lead of the account
            _queue_for_scoring(Lead.objects.filter(account=obj).values_list("pk", flat=True))


class ViewOnly:
    """Evidence other records are derived from: support reads it; only LeadOps' services write it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _queue_for_scoring(lead_ids) -> None:
    """A lead's facts changed by hand: score it again, as the import does, so the score matches its explanation."""
    from scoring.services.pending import leads_queue_for_rescore

    lead_ids = list(lead_ids)
    if lead_ids:
        leads_queue_for_rescore(lead_ids)
        transaction.on_commit(_wake_scoring)


def _wake_scoring() -> None:
    from scoring.tasks import rescore_pending_soon

    rescore_pending_soon()


class StageTransitionInline(ViewOnly, admin.TabularInline):
    model = StageTransition
    extra = 0
    fields = readonly_fields = ["from_stage", "to_stage", "by_user", "by_system", "reason", "at"]


# Fields of a lead that support may correct by hand; the opt-out is one (a person asks by phone), its date included.
EDITABLE_TIME_STAMPS = {"unsubscribed_at"}


def lead_derived_fields() -> list[str]:
    """Scores, tier, temperature, fast-track, stage, owner and every time stamp: derived, so read-only here.

    By rule rather than by list, so that a score field or stage time stamp added later is read-only from the start.
    """
    return [
        field.name
        for field in Lead._meta.concrete_fields
        if field.name.startswith("score_")
        or field.name in ("temperature", "stage", "owner")
        or (field.name.endswith("_at") and field.name not in EDITABLE_TIME_STAMPS)
    ]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "account", "stage", "owner", "score_total", "created_at"]
    list_filter = ["stage", "source", "seniority"]
    search_fields = ["email", "last_name", "account__name"]
    list_select_related = ["account", "owner"]
    raw_id_fields = ["account"]
    inlines = [StageTransitionInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return lead_derived_fields()

    def get_fieldsets(self, request, obj=None):
        derived = lead_derived_fields()
        editable = [name for name in self.get_fields(request, obj) if name not in derived]
        return [
            (None, {"fields": editable}),
            (
                "Scores, stage and owner",
                {
                    "fields": derived,
                    "description": "Derived by LeadOps, so read-only here: the scores, tier and temperature come "
                    "from the active scoring version, the stage and its time stamps from lifecycle moves (see the "
                    "transitions below). Reassigning the owner will come with the SDR queue, which records who "
                    "moved the lead and why. A lead saved here is queued for re-scoring.",
                },
            ),
        ]

    def has_add_permission(self, request):
        # A lead comes in through the import or the API, which time-stamp it and queue it for scoring.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.has_changed():
            _queue_for_scoring([obj.pk])


@admin.register(StageTransition)
class StageTransitionAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["lead", "from_stage", "to_stage", "by_user", "by_system", "at"]
    list_filter = ["to_stage"]
    raw_id_fields = ["lead"]
    readonly_fields = [f.name for f in StageTransition._meta.fields]
    show_full_result_count = False


@admin.register(LeadEvent)
class LeadEventAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["lead", "kind", "occurred_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


@admin.register(IntentSignal)
class IntentSignalAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["account", "topic", "surge_score", "source", "observed_at"]
    raw_id_fields = ["account", "lead"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "rep", "occurred_at", "outcome"]
    list_filter = ["kind"]
    raw_id_fields = ["lead"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "owner", "stage", "amount", "created_at", "closed_at"]
    list_filter = ["stage"]
    raw_id_fields = ["lead", "account"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnly, admin.ModelAdmin):
    """The audit log is evidence: nobody edits or deletes it, not even support."""

    list_display = ["at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_label", "reason"]


@admin.register(Notification)
class NotificationAdmin(ViewOnly, admin.ModelAdmin):
    """What LeadOps told whom; written by leadops.notifications only, read and marked read by the recipient."""

    list_display = ["created_at", "recipient", "kind", "message", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "message"]
    raw_id_fields = ["recipient", "lead", "actor"]
    show_full_result_count = False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """A person's e-mail choice per kind; support may change it for someone who asks."""

    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
