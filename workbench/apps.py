import logging

from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workbench"

    def ready(self) -> None:
        # The SDK logs request parameters and response bodies at DEBUG (card numbers in a
        # payment method create, the `secret` of a created webhook endpoint) and every URL
        # at INFO. ApiRequestLog is the request log, redacted; the SDK's logger stays quiet
        # whatever LOG_LEVEL says.
        logging.getLogger("stripe").setLevel(logging.WARNING)
