from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch.
        from reporting import handlers  # noqa: F401
