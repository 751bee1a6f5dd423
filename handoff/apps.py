from django.apps import AppConfig


def _on_sal_accepted(sender, *, lead_id, user_id, at, **kwargs):
    # The AE's review clock is theirs to stop; SLA owns the clocks, so it is asked through its service.
    from sla.services import clocks_stop

    clocks_stop(lead_id=lead_id, stops_on="ae_reviewed", at=at, outcome="taken on as SAL", owner_id=user_id)


class HandoffConfig(AppConfig):
    name = "handoff"
    verbose_name = "SQL handoff"

    def ready(self):
        from handoff.panels import lead_actions_panel
        from handoff.services import lead_sal_accepted
        from leadops.notifications import notification_kind_register
        from leadops.panels import lead_panels

        notification_kind_register("handoff", "An accepted lead was handed to you", True)
        notification_kind_register("handoff_waiting", "An accepted lead waits for an AE in your team", True)
        notification_kind_register("lead_returned", "An AE returned a lead you had accepted", True)
        lead_panels.connect(lead_actions_panel, dispatch_uid="handoff.lead_actions")
        lead_sal_accepted.connect(_on_sal_accepted, dispatch_uid="handoff.sal_accepted")

        # After routing's and the SLA's answers (app order): the demo's rejections get their reason codes.
        from handoff.demo import demo_handoff_seeded
        from leadops.demo.signals import demo_world_seeded

        demo_world_seeded.connect(demo_handoff_seeded, dispatch_uid="handoff.demo")
