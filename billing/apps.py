from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch.
        from billing import handlers  # noqa: F401
