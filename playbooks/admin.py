"""Support admin: the playbooks are shown read-only; managers edit templates and the library in LeadOps (a template
edit there makes a new version), and discovery calls are the AEs' record."""

from django.contrib import admin

from playbooks.models import Criterion, DiscoveryCall, NextStepTemplate, Objection, QualificationTemplate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = ("order", "key", "name", "required")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QualificationTemplate)
class QualificationTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "key", "version", "active", "created_at", "created_by")
    list_filter = ("key", "active")
    inlines = [CriterionInline]


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "key", "updated_at", "updated_by")


@admin.register(NextStepTemplate)
class NextStepTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "updated_at")


@admin.register(DiscoveryCall)
class DiscoveryCallAdmin(ReadOnlyAdmin):
    list_display = ("lead", "ae", "template", "occurred_at", "duration_minutes", "outcome", "next_step")
    list_filter = ("outcome", "next_step", "template__key")
    list_select_related = ("lead", "ae", "template")
    raw_id_fields = ("lead",)
