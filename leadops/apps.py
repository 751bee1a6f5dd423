from django.apps import AppConfig


class LeadOpsConfig(AppConfig):
    name = "leadops"
    verbose_name = "LeadOps"

    def ready(self):
        from django.db.backends.signals import connection_created

        from leadops import lookups
        from leadops.db import register_sqlite_functions

        lookups.register()
        connection_created.connect(register_sqlite_functions, dispatch_uid="leadops_sqlite_functions")
