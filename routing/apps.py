from django.apps import AppConfig


def _route_new_sqls(sender, lead_ids, **kwargs):
    from django.db import transaction

    from routing.tasks import route_leads

    ids = sorted(set(lead_ids))
    if ids:
        transaction.on_commit(lambda: route_leads.delay(ids))


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing and territories"

    def ready(self):
        from leadops.panels import lead_panels
        from routing.panels import lead_routing_panel
        from scoring.services.scores import leads_became_sql

        lead_panels.connect(lead_routing_panel, dispatch_uid="routing.lead_panel")
        from routing.services_disputes import lead_dispute_panel

        lead_panels.connect(lead_dispute_panel, dispatch_uid="routing.dispute_panel")

        # Scoring sends this after its transaction commits; every new SQL is queued for routing.
        leads_became_sql.connect(_route_new_sqls, dispatch_uid="routing.route_new_sqls")

        # A freshly seeded demo world gets territories and its SQLs routed, like a real set-up would.
        from leadops.demo.signals import demo_world_resetting, demo_world_seeded
        from routing.demo import demo_routing_reset, demo_routing_setup

        demo_world_seeded.connect(demo_routing_setup, dispatch_uid="routing.demo_setup")
        demo_world_resetting.connect(demo_routing_reset, dispatch_uid="routing.demo_reset")
