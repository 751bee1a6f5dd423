"""Django admin for support use. Versions change only through the governance services, so they are read-only here."""

from django.contrib import admin

from scoring.models import (
    BorderlineReview,
    ImpactPreview,
    LeadAggregate,
    PendingRescore,
    RescoreChunk,
    RescoreRun,
    ScoringModel,
    ScoringModelVersion,
    ScoringRule,
)


class ReadOnly:
    """Support may look; changes go through the services, which validate and audit them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]


class ScoringRuleInline(ReadOnly, admin.TabularInline):
    model = ScoringRule
    extra = 0
    fields = ["position", "key", "name", "kind", "pillar", "points", "field", "operator", "value", "event_kind"]


@admin.register(ScoringModelVersion)
class ScoringModelVersionAdmin(ReadOnlyAdmin):
    """Status, decisions and contributors change only through the governance services, where four eyes hold: no
    form, no action and no bulk edit here can approve, reject or activate a version."""

    actions = None
    list_display = ["model", "number", "status", "author", "submitted_at", "decided_by", "activated_at"]
    list_filter = ["status", "model"]
    inlines = [ScoringRuleInline]


@admin.register(ScoringRule)
class ScoringRuleAdmin(ReadOnlyAdmin):
    list_display = ["version", "key", "name", "kind", "pillar", "points"]
    list_filter = ["kind", "pillar"]
    search_fields = ["key", "name"]


@admin.register(LeadAggregate)
class LeadAggregateAdmin(ReadOnlyAdmin):
    list_display = ["lead", "last_event_at", "updated_at"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


@admin.register(PendingRescore)
class PendingRescoreAdmin(ReadOnlyAdmin):
    """How far behind the incremental re-scoring is: entries older than a minute mean no worker is draining."""

    list_display = ["lead", "queued_at"]
    ordering = ["queued_at"]
    raw_id_fields = ["lead"]
    show_full_result_count = False


@admin.register(BorderlineReview)
class BorderlineReviewAdmin(ReadOnlyAdmin):
    list_display = ["lead", "version", "score", "status", "opened_at", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["lead"]


@admin.register(ImpactPreview)
class ImpactPreviewAdmin(ReadOnlyAdmin):
    list_display = ["version", "status", "requested_at", "computed_at"]


class RescoreChunkInline(admin.TabularInline):
    model = RescoreChunk
    extra = 0
    fields = ["lo", "hi", "status", "claimed_at", "finished_at", "scored"]
    readonly_fields = fields
    can_delete = False


@admin.register(RescoreRun)
class RescoreRunAdmin(ReadOnlyAdmin):
    list_display = ["version", "reason", "as_of", "started_at", "finished_at", "chunks_total"]
    list_filter = ["reason"]
    inlines = [RescoreChunkInline]


@admin.register(RescoreChunk)
class RescoreChunkAdmin(ReadOnlyAdmin):
    list_display = ["run", "lo", "hi", "status", "scored", "finished_at"]
    list_filter = ["status"]
