from django.apps import AppConfig


def _on_leads_routed(sender, *, decision_ids, **kwargs):
    # Handed to a worker, one task per routing batch: routing decides thousands of leads a second and must not wait
    # for the clocks.
    from sla.tasks import clocks_for_decisions

    clocks_for_decisions.delay(list(decision_ids))


def _on_lead_stage_changed(sender, *, lead_ids, to_stage, at, **kwargs):
    from sla.services import clocks_for_stage_change

    clocks_for_stage_change(lead_ids=lead_ids, to_stage=to_stage, at=at)


def _on_activity_logged(sender, *, lead_id, rep_id, occurred_at, **kwargs):
    from sla.services import clocks_for_activity

    clocks_for_activity(lead_id=lead_id, rep_id=rep_id, occurred_at=occurred_at)


def _on_dispute_changed(sender, *, dispute_id, status, **kwargs):
    from sla.services import clocks_for_dispute

    clocks_for_dispute(dispute_id=dispute_id, status=status)


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "Service levels"

    def ready(self):
        from leadops.notifications import notification_kind_register
        from leadops.panels import lead_panels
        from leadops.services import activity_logged, lead_stage_changed
        from routing.services import leads_routed
        from routing.services_disputes import dispute_changed
        from sla.panels import lead_sla_panel

        lead_panels.connect(lead_sla_panel, dispatch_uid="sla.lead_panel")

        notification_kind_register("sla_escalation", "A service level of your team was breached or escalated", True)
        # Each is sent after its transaction commits; the clocks start and stop in their own transaction.
        leads_routed.connect(_on_leads_routed, dispatch_uid="sla.leads_routed")
        lead_stage_changed.connect(_on_lead_stage_changed, dispatch_uid="sla.lead_stage_changed")
        activity_logged.connect(_on_activity_logged, dispatch_uid="sla.activity_logged")
        dispute_changed.connect(_on_dispute_changed, dispatch_uid="sla.dispute_changed")

        # A freshly seeded demo world gets a few days of SLA history once the seeding (routing's part included) commits.
        from leadops.demo.signals import demo_world_seeded
        from sla.demo import demo_sla_seeded

        demo_world_seeded.connect(demo_sla_seeded, dispatch_uid="sla.demo_history")
