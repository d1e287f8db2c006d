from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch.
        from payments import (
            handlers,  # noqa: F401
            handlers_balances,  # noqa: F401
        )

        self.register_search_providers()

    @staticmethod
    def register_search_providers() -> None:
        """What the header search finds in this app, registered with dashboard.search."""
        from payments import search

        search.register()
