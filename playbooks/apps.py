from django.apps import AppConfig


def _actions_on_activity(sender, *, lead_id, activity_id, **kwargs):
    from playbooks.services_actions import actions_for_activity

    actions_for_activity(lead_id=lead_id, activity_id=activity_id)


def _actions_on_stage_change(sender, *, lead_ids, to_stage, at, **kwargs):
    from playbooks.services_actions import actions_for_stage_change

    actions_for_stage_change(lead_ids=lead_ids, to_stage=to_stage, at=at)


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Playbooks and discovery calls"

    def ready(self):
        from leadops.panels import lead_panels
        from playbooks.panels import lead_playbook_panel

        lead_panels.connect(lead_playbook_panel, dispatch_uid="playbooks.lead_playbook")

        # Next-best-action: a reply, a meeting or a stage change stops the sequence; a logged touch completes its
        # action (both signals are sent after their transaction commits); the lead page shows the next action.
        from leadops.services import activity_logged, lead_stage_changed
        from playbooks.panels_actions import lead_next_action_panel

        activity_logged.connect(_actions_on_activity, dispatch_uid="playbooks.actions_activity")
        lead_stage_changed.connect(_actions_on_stage_change, dispatch_uid="playbooks.actions_stage")
        lead_panels.connect(lead_next_action_panel, dispatch_uid="playbooks.next_action_panel")

        # After handoff's answer (app order), which marks the SALs: the demo's AEs have logged discovery calls.
        from leadops.demo.signals import demo_world_seeded
        from playbooks.demo import demo_playbooks_seeded

        demo_world_seeded.connect(demo_playbooks_seeded, dispatch_uid="playbooks.demo")
