from django.apps import AppConfig


class LeadOpsConfig(AppConfig):
    name = "leadops"
    verbose_name = "LeadOps"

    def ready(self):
        from leadops import lookups

        lookups.register()
