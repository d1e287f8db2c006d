from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch.
        from reporting import handlers  # noqa: F401

        # The Home page's widgets (dashboard cannot import reporting: it registers them).
        from reporting.widgets import register as register_home_widgets

        register_home_widgets()

        # What the Export button of each list page can write, and the financial reports.
        from reporting import export_sources, reports

        export_sources.register()
        reports.register()
