"""Batch ingestion of behaviour events and intent signals (marketing automation, web tracking, intent providers).

A batch is validated whole: one bad item and nothing is stored, and the answer lists every bad item by index. A
stored batch is folded into the leads' scoring aggregates and its leads are queued for re-scoring in the same
transaction; once it commits a worker is woken, so a lead's new score is readable within seconds.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from leadops.models import Account, EventKind, Lead
from leadops.permissions import has_role_perm
from scoring.services.aggregates import events_record, signals_record

MAX_BATCH = 5000
# Event properties are context for rules and people (a page's path, a campaign, UTM tags), not documents: bounded so
# that one event cannot fill the table or bury the database in a deep JSON walk.
MAX_PROPERTY_DEPTH = 10
MAX_PROPERTY_BYTES = 16 * 1024
# Clocks of tracking systems drift; an event from further in the future than this is a bug upstream.
FUTURE_TOLERANCE = timedelta(minutes=5)


class CanIngest(BasePermission):
    message = "Your role does not allow sending events or intent signals."

    def has_permission(self, request, view):
        return has_role_perm(request.user, "leadops.ingest_events")


class IngestOutputSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text="Items stored.")
    leads = serializers.IntegerField(help_text="Leads queued for re-scoring.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Problems by the index of the item in the batch.")


def _not_in_future(value):
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise serializers.ValidationError("lies in the future; send the time the event happened, with its time zone.")
    return value


def nesting_depth(value, *, stop_after: int) -> int:
    """How many lists and objects deep `value` goes (a scalar is 0, {} and [] are 1).

    Walked with a stack instead of recursion, and given up as soon as it passes `stop_after`, so that no value a
    client sends can exhaust Python's recursion limit here.
    """
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest > stop_after:
                break
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(value) -> bool:
    return nesting_depth(value, stop_after=MAX_PROPERTY_DEPTH) > MAX_PROPERTY_DEPTH


TOO_DEEP = f"is nested more than {MAX_PROPERTY_DEPTH} levels deep; send at most {MAX_PROPERTY_DEPTH} levels."


def _properties_storable(value):
    """Bounded in depth and size, and free of NUL characters (keys included), which PostgreSQL cannot store in JSON
    or text. The depth is checked first: the other two checks walk the value."""
    if _too_deep(value):
        raise serializers.ValidationError(TOO_DEEP)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PROPERTY_BYTES:
        raise serializers.ValidationError(
            f"is {size:,} bytes as JSON; send at most {MAX_PROPERTY_BYTES:,} bytes ({MAX_PROPERTY_BYTES // 1024} KB)."
        )

    def walk(item):
        if isinstance(item, str):
            return "\x00" not in item
        if isinstance(item, dict):
            return all(walk(key) and walk(inner) for key, inner in item.items())
        if isinstance(item, list):
            return all(walk(inner) for inner in item)
        return True

    if not walk(value):
        raise serializers.ValidationError("contains a NUL character (\\u0000), which cannot be stored; remove it.")
    return value


class EventIngestApi(APIView):
    """POST a list of events: [{"lead_id": 1 or "email": "...", "kind": "demo_request", "occurred_at": ISO 8601,
    "properties": {...}}, ...]."""

    permission_classes = [CanIngest]

    @extend_schema_serializer(component_name="EventInput")
    class InputSerializer(serializers.Serializer):
        lead_id = serializers.IntegerField(required=False, min_value=1)
        email = serializers.EmailField(required=False)
        kind = serializers.ChoiceField(choices=EventKind.ALL)
        occurred_at = serializers.DateTimeField(validators=[_not_in_future])
        properties = serializers.DictField(
            required=False,
            default=dict,
            validators=[_properties_storable],
            help_text=f"At most {MAX_PROPERTY_DEPTH} levels deep and {MAX_PROPERTY_BYTES // 1024} KB as JSON.",
        )

        def validate(self, data):
            if not data.get("lead_id") and not data.get("email"):
                raise serializers.ValidationError("Give the lead's id or e-mail.")
            return data

    @extend_schema(request=InputSerializer(many=True), responses={202: IngestOutputSerializer, 400: ErrorSerializer})
    def post(self, request):
        events, refusal = _valid_batch(request, self.InputSerializer, "events")
        if refusal is not None:
            return refusal
        emails = {e["email"].lower() for e in events if not e.get("lead_id")}
        ids_by_email = dict(Lead.objects.filter(email__in=emails).values_list("email", "pk"))
        wanted_ids = {e["lead_id"] for e in events if e.get("lead_id")}
        known_ids = set(Lead.objects.filter(pk__any_of=wanted_ids).values_list("pk", flat=True))
        errors = {}
        for index, event in enumerate(events):
            if event.get("lead_id"):
                if event["lead_id"] not in known_ids:
                    errors[index] = {"lead_id": [f"No lead with id {event['lead_id']}."]}
            elif event["email"].lower() not in ids_by_email:
                errors[index] = {"email": [f"No lead with e-mail {event['email']}."]}
            else:
                event["lead_id"] = ids_by_email[event["email"].lower()]
        if errors:
            return Response({"detail": "Nothing was stored; fix these events.", "errors": errors}, status=400)
        with transaction.atomic():
            lead_ids = events_record(events=events)
            transaction.on_commit(lambda: _rescore_later(lead_ids))
        return Response({"stored": len(events), "leads": len(lead_ids)}, status=status.HTTP_202_ACCEPTED)


class SignalIngestApi(APIView):
    """POST a list of intent signals: [{"account_id" or "domain", "lead_id"?, "topic", "surge_score", "source",
    "observed_at"}, ...]."""

    permission_classes = [CanIngest]

    @extend_schema_serializer(component_name="IntentSignalInput")
    class InputSerializer(serializers.Serializer):
        account_id = serializers.IntegerField(required=False, min_value=1)
        domain = serializers.CharField(required=False, max_length=255)
        lead_id = serializers.IntegerField(required=False, min_value=1)
        topic = serializers.CharField(max_length=100)
        surge_score = serializers.IntegerField(min_value=0, max_value=100)
        source = serializers.CharField(max_length=100)
        observed_at = serializers.DateTimeField(validators=[_not_in_future])

        def validate(self, data):
            if not data.get("account_id") and not data.get("domain"):
                raise serializers.ValidationError("Give the account's id or domain.")
            return data

    @extend_schema(request=InputSerializer(many=True), responses={202: IngestOutputSerializer, 400: ErrorSerializer})
    def post(self, request):
        signals, refusal = _valid_batch(request, self.InputSerializer, "signals")
        if refusal is not None:
            return refusal
        by_domain = dict(
            Account.objects.filter(domain__in={s["domain"].lower() for s in signals if s.get("domain")}).values_list(
                "domain", "pk"
            )
        )
        known = set(
            Account.objects.filter(pk__any_of={s["account_id"] for s in signals if s.get("account_id")}).values_list(
                "pk", flat=True
            )
        )
        lead_accounts = dict(
            Lead.objects.filter(pk__any_of={s["lead_id"] for s in signals if s.get("lead_id")}).values_list(
                "pk", "account_id"
            )
        )
        errors, rows = {}, []
        for index, s in enumerate(signals):
            account_id = s.get("account_id") or by_domain.get((s.get("domain") or "").lower())
            if account_id is None or (s.get("account_id") and account_id not in known):
                errors[index] = {"account": ["No such account."]}
                continue
            if s.get("lead_id") and lead_accounts.get(s["lead_id"]) != account_id:
                errors[index] = {"lead_id": [f"Lead {s['lead_id']} does not belong to that account."]}
                continue
            rows.append(
                {
                    "account_id": account_id,
                    "lead_id": s.get("lead_id"),
                    "topic": s["topic"],
                    "surge_score": s["surge_score"],
                    "source": s["source"],
                    "observed_at": s["observed_at"],
                }
            )
        if errors:
            return Response({"detail": "Nothing was stored; fix these signals.", "errors": errors}, status=400)
        with transaction.atomic():
            lead_ids = signals_record(signals=rows)
            transaction.on_commit(lambda: _rescore_later(lead_ids))
        return Response({"stored": len(rows), "leads": len(lead_ids)}, status=status.HTTP_202_ACCEPTED)


def _valid_batch(request, serializer_class, noun: str):
    """The validated items of a batch, or the 400 answer that says what is wrong with it (nothing is stored).

    A value nested deeper than any field accepts is refused before the serializer sees it: DRF turns a refused value
    into text for its message, which for a few hundred levels of nesting exhausts the recursion limit.
    """
    items = request.data if isinstance(request.data, list) else None
    if items is None or not 1 <= len(items) <= MAX_BATCH:
        return None, Response({"detail": f"Send a JSON list of 1 to {MAX_BATCH} {noun}."}, status=400)
    errors = {
        index: {field: [TOO_DEEP] for field, value in item.items() if _too_deep(value)}
        for index, item in enumerate(items)
        if isinstance(item, dict)
    }
    errors = {index: fields for index, fields in errors.items() if fields}
    rest = [index for index in range(len(items)) if index not in errors]
    serializer = serializer_class(data=[items[index] for index in rest], many=True)
    if not serializer.is_valid():
        errors.update({rest[position]: error for position, error in _indexed(serializer.errors).items()})
    if errors:
        errors = dict(sorted(errors.items()))
        return None, Response({"detail": f"Nothing was stored; fix these {noun}.", "errors": errors}, status=400)
    return serializer.validated_data, None


def _indexed(errors) -> dict:
    """Errors by item index (DRF gives a dict of the bad items, older versions a list with empty entries)."""
    if isinstance(errors, dict):
        return dict(errors)
    return {index: error for index, error in enumerate(errors) if error}


def _rescore_later(lead_ids: list[int]) -> None:
    # The leads are already queued (scoring.PendingRescore, same transaction); this only wakes a worker.
    from scoring.tasks import rescore_pending_soon

    if lead_ids:
        rescore_pending_soon()
