from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self) -> None:
        # Registers the webhook event handlers with workbench.dispatch and the catalog's
        # resources with stripe_sync.
        from billing import handlers, sync  # noqa: F401

        self.register_search_providers()

    @staticmethod
    def register_search_providers() -> None:
        """What the header search finds in this app, registered with dashboard.search."""
        from billing import search

        search.register()
