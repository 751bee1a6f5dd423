"""Django admin for support use. Lifecycle moves go through the service, so stage is read-only here."""

from django.contrib import admin

from leadops.models import (
    Account,
    Activity,
    AuditEntry,
    IntentSignal,
    Lead,
    LeadEvent,
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


class StageTransitionInline(admin.TabularInline):
    model = StageTransition
    extra = 0
    can_delete = False
    readonly_fields = ["from_stage", "to_stage", "by_user", "by_system", "reason", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "account", "stage", "owner", "score_total", "created_at"]
    list_filter = ["stage", "source", "seniority"]
    search_fields = ["email", "last_name", "account__name"]
    list_select_related = ["account", "owner"]
    raw_id_fields = ["account"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["stage", "stage_changed_at", "created_at", "updated_at"]
    inlines = [StageTransitionInline]
    show_full_result_count = False


@admin.register(StageTransition)
class StageTransitionAdmin(admin.ModelAdmin):
    list_display = ["lead", "from_stage", "to_stage", "by_user", "by_system", "at"]
    list_filter = ["to_stage"]
    raw_id_fields = ["lead"]
    readonly_fields = [f.name for f in StageTransition._meta.fields]
    show_full_result_count = False


@admin.register(LeadEvent)
class LeadEventAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "occurred_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


@admin.register(IntentSignal)
class IntentSignalAdmin(admin.ModelAdmin):
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
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_label", "reason"]

    # The audit log is evidence: nobody edits or deletes it, not even support.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
