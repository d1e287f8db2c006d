from django.apps import AppConfig


class ConnectConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "connect"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch.
        from connect import handlers  # noqa: F401
