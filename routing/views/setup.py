"""The set-up pages for admins: territories in priority order, a territory's criteria, calendar and members, named
accounts, reps' capacity and availability; edits go into the draft set-up, which takes effect when published."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leadops import roles
from leadops.models import Team
from leadops.permissions import require_perm
from routing import forms as routing_forms
from routing import selectors, services_setup
from routing.models import RepMonthlyLoad, TerritoryMember

CONFIGURE = services_setup.CONFIGURE


def _names(user_ids) -> dict[int, str]:
    return {
        u.pk: u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(pk__in=[i for i in user_ids if i])
    }


SEGMENT_LABELS = {"smb": "SMB", "mid_market": "Mid-Market", "enterprise": "Enterprise"}
CHANGE_LABELS = {
    "name": "name",
    "team_id": "team",
    "active": "active",
    "calendar": "calendar",
    "members": "members",
    **{name: "criteria" for name in (*services_setup.CRITERIA, *services_setup.RANGES)},
}


def _changes(before: dict, after: dict) -> list[str]:
    """What the draft changes in a published territory, in words: 'priority was 2', 'members', ..."""
    changes = [f"priority was {before['priority']}"] if before["priority"] != after["priority"] else []
    for name, label in CHANGE_LABELS.items():
        if before.get(name) != after.get(name) and label not in changes:
            changes.append(label)
    return changes


@require_perm(CONFIGURE)
def setup_home(request):
    spec, draft = services_setup.setup_current()
    published = {t["key"]: t for t in services_setup.published_spec()["territories"]} if draft else {}
    territories = services_setup.ordered(spec)
    teams = Team.objects.select_related("manager").in_bulk([t["team_id"] for t in territories])
    names = _names({m["user_id"] for t in territories for m in t["members"]})
    rows = []
    for territory in territories:
        members = territory["members"]
        team = teams.get(territory["team_id"])
        state, changes = "", []
        if draft:
            before = published.get(territory["key"])
            state = "new" if before is None else ("changed" if before != territory else "")
            changes = _changes(before, territory) if before else []
        rows.append(
            {
                "t": territory,
                "team": team,
                "state": state,
                "changes": changes,
                "members": [{**m, "name": names.get(m["user_id"], "?")} for m in members],
                "segments": [SEGMENT_LABELS.get(code, code) for code in territory["segments"]],
                "active_members": sum(1 for m in members if m.get("active", True)),
            }
        )
    removed = [t for key, t in published.items() if key not in {t["key"] for t in territories}]
    problems = services_setup.setup_problems(spec) if draft else {}
    named_changes = len(spec.get("named_accounts") or {}) if draft else 0
    return render(
        request,
        "routing/setup/index.html",
        {
            "rows": rows,
            "draft": draft,
            "removed": removed,
            "problems": [m for messages_ in problems.values() for m in messages_],
            "named_changes": named_changes,
            "version": services_setup.published_version(),
            "stale": bool(draft) and services_setup.draft_is_stale(draft),
            "tab": "territories",
        },
    )


def _territory_forms(request, territory: dict | None):
    if request.method == "POST":
        return routing_forms.TerritoryForm(request.POST), routing_forms.MemberFormSet(request.POST, prefix="members")
    initial = routing_forms.TerritoryForm.initial_for(territory) if territory else None
    members = routing_forms.member_initial(territory) if territory else None
    return routing_forms.TerritoryForm(initial=initial), routing_forms.MemberFormSet(initial=members, prefix="members")


@require_perm(CONFIGURE)
def territory_edit(request, key: str | None = None):
    spec, draft = services_setup.setup_current()
    territory = None
    if key is not None:
        try:
            territory = services_setup.territory_find(spec, key)
        except services_setup.SetupError as error:
            raise Http404(str(error)) from None
    form, formset = _territory_forms(request, territory)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        members, positions = [], []
        for index, member_form in enumerate(formset.forms):
            if member_form.cleaned_data.get("DELETE"):
                continue
            member = member_form.member()
            if member is not None:
                members.append(member)
                positions.append(index)
        try:
            saved = services_setup.setup_territory_save(
                by=request.user, data=form.territory_data(), members=members, key=key
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                if name.startswith("members."):
                    _, number, field = name.split(".", 2)
                    target = formset.forms[positions[int(number)]]
                    field = {"user_id": "user"}.get(field, field)
                    for problem in problems:
                        target.add_error(field if field in target.fields else None, problem)
                    if field in target.fields:
                        widget = target.fields[field].widget
                        widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                else:
                    for problem in problems:
                        form.add_error(form.field_for(name), problem)
        else:
            messages.success(request, f"{saved['name']} saved in the draft. Publish the draft to route with it.")
            return redirect("routing:setup_home")
    return render(
        request,
        "routing/setup/territory_form.html",
        {"form": form, "formset": formset, "territory": territory, "draft": draft, "tab": "territories"},
    )


@require_perm(CONFIGURE)
@require_POST
def territory_move(request, key: str):
    try:
        services_setup.setup_territory_move(by=request.user, key=key, up=request.POST.get("direction") == "up")
    except services_setup.SetupError as error:
        messages.error(request, str(error))
    return redirect("routing:setup_home")


@require_perm(CONFIGURE)
@require_POST
def territory_remove(request, key: str):
    try:
        spec, _ = services_setup.setup_current()
        name = services_setup.territory_find(spec, key)["name"]
        services_setup.setup_territory_remove(by=request.user, key=key)
        messages.success(request, f"{name} removed from the draft; publishing the draft deletes it.")
    except services_setup.SetupError as error:
        messages.error(request, str(error))
    return redirect("routing:setup_home")


@require_perm(CONFIGURE)
@require_POST
def setup_publish(request):
    try:
        version = services_setup.setup_draft_publish(by=request.user)
    except services_setup.SetupError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        problems = [m for ms in error.message_dict.values() for m in ms]
        messages.error(request, "Nothing was published: " + " ".join(problems))
    else:
        messages.success(request, f"Set-up v{version} published: new SQLs are routed with it from now on.")
    return redirect("routing:setup_home")


@require_perm(CONFIGURE)
@require_POST
def setup_discard(request):
    try:
        services_setup.setup_draft_discard(by=request.user)
    except services_setup.SetupError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Draft discarded; the published set-up is unchanged.")
    return redirect("routing:setup_home")


@require_perm(CONFIGURE)
def named_accounts(request):
    form = routing_forms.NamedAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.setup_named_account_set(
                by=request.user, account=form.cleaned_data["account"], owner=form.cleaned_data["owner"]
            )
        except ValidationError as error:
            routing_forms.add_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['account']}: owner set in the draft.")
            return redirect("routing:named_accounts")
    spec, draft = services_setup.setup_current()
    return render(
        request,
        "routing/setup/named_accounts.html",
        {"form": form, "rows": services_setup.named_accounts_view(spec), "draft": draft, "tab": "accounts"},
    )


def _reps():
    User = get_user_model()
    return (
        User.objects.filter(
            Q(groups__name__in=[roles.SDR, roles.AE]) | Q(territory_memberships__isnull=False), profile__isnull=False
        )
        .distinct()
        .select_related("profile__team")
        .order_by("first_name", "username")
    )


@require_perm(CONFIGURE)
def rep_list(request):
    today = timezone.localdate()
    reps = list(_reps())
    loads = dict(
        RepMonthlyLoad.objects.filter(month=selectors.month_of(today), user_id__in=[r.pk for r in reps]).values_list(
            "user_id", "assigned"
        )
    )
    memberships: dict[int, list[str]] = {}
    for user_id, name, capacity in TerritoryMember.objects.values_list(
        "user_id", "territory__name", "monthly_capacity"
    ).order_by("territory__name"):
        memberships.setdefault(user_id, []).append(f"{name} ({capacity}/mo)")
    rows = [
        {
            "user": rep,
            "profile": rep.profile,
            "load": loads.get(rep.pk, 0),
            "away": rep.profile.is_out_of_office(today),
            "territories": memberships.get(rep.pk, []),
        }
        for rep in reps
    ]
    return render(request, "routing/setup/reps.html", {"rows": rows, "tab": "reps"})


@require_perm(CONFIGURE)
def rep_edit(request, user_id: int):
    rep = get_object_or_404(_reps(), pk=user_id)
    profile = rep.profile
    initial = {
        "monthly_capacity": profile.monthly_capacity,
        "out_of_office_from": profile.out_of_office_from,
        "out_of_office_until": profile.out_of_office_until,
        "active": rep.is_active,
    }
    form = routing_forms.RepAvailabilityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services_setup.rep_availability_update(by=request.user, user=rep, **form.cleaned_data)
        except ValidationError as error:
            routing_forms.add_errors(form, error)
        else:
            note = f" {len(moved)} unworked SQL(s) re-routed." if moved else ""
            messages.success(request, f"{rep.get_full_name() or rep.get_username()} saved.{note}")
            return redirect("routing:rep_list")
    return render(request, "routing/setup/rep_form.html", {"form": form, "rep": rep, "tab": "reps"})
