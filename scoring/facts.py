"""Reads: turn stored leads, accounts and aggregates into the engine's Facts, and versions into engine Models."""

from __future__ import annotations

from leadops.models import Lead
from leadops.rules import PERSONAL_EMAIL_DOMAINS
from scoring import rules as engine
from scoring.models import LeadAggregate, ScoringModelVersion


def lead_attributes(lead: Lead) -> dict[str, object]:
    account = lead.account
    # The part after the first "@", as the set-based evaluator's SUBSTR/INSTR computes it.
    domain = lead.email[lead.email.find("@") + 1 :].lower()
    return {
        "lead.title": lead.title,
        "lead.seniority": lead.seniority,
        "lead.department": lead.department,
        "lead.country": lead.country,
        "lead.source": lead.source,
        "lead.email_domain": domain,
        "lead.personal_email": domain in PERSONAL_EMAIL_DOMAINS,
        "lead.email_consent": lead.email_consent,
        "lead.unsubscribed": lead.unsubscribed_at is not None,
        "account.name": account.name if account else None,
        "account.domain": account.domain if account else None,
        "account.industry": account.industry if account else None,
        "account.country": account.country if account else None,
        "account.region": account.region if account else None,
        "account.segment": (account.segment if account else None) or "smb",
        "account.employees": account.employees if account else None,
        "account.annual_revenue": float(account.annual_revenue)
        if account and account.annual_revenue is not None
        else None,
    }


def facts_from(lead: Lead, aggregate: LeadAggregate | None) -> engine.Facts:
    if aggregate is None:
        return engine.Facts(attributes=lead_attributes(lead))
    behaviour = {
        key: engine.BehaviourAggregate(count=int(values[0]), decayed=float(values[1]), last_seen=values[2])
        for key, values in aggregate.behaviour.items()
    }
    return engine.Facts(
        attributes=lead_attributes(lead),
        behaviour=behaviour,
        intent_last_seen={key: float(seen) for key, seen in aggregate.intent.items()},
        last_event_at=aggregate.last_event_at,
        aggregates_as_of=aggregate.as_of,
    )


def facts_for_leads(lead_ids) -> dict[int, engine.Facts]:
    leads = Lead.objects.filter(pk__in=lead_ids).select_related("account")
    aggregates = LeadAggregate.objects.in_bulk(list(lead_ids))
    return {lead.pk: facts_from(lead, aggregates.get(lead.pk)) for lead in leads}


def engine_model(version: ScoringModelVersion) -> engine.Model:
    return engine.Model(
        weights={
            "fit": float(version.weight_fit),
            "engagement": float(version.weight_engagement),
            "intent": float(version.weight_intent),
            "buying": float(version.weight_buying),
        },
        thresholds=engine_model_thresholds(version),
        rules=[rule.as_engine_rule() for rule in version.rules.all()],
        label=version.label,
    )


def engine_model_thresholds(version: ScoringModelVersion) -> engine.Thresholds:
    return engine.Thresholds(
        mql=version.mql_cutoff,
        sql_smb=version.sql_cutoff_smb,
        sql_mid_market=version.sql_cutoff_mid_market,
        sql_enterprise=version.sql_cutoff_enterprise,
        hot_above=version.hot_above,
        warm_from=version.warm_from,
        borderline_band=version.borderline_band,
        fast_track_fit_floor=version.fast_track_fit_floor,
    )
