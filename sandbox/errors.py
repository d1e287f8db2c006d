"""Stripe's error shapes, raised by resource handlers and rendered by the API layer."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An API error. `keeps_state` errors (card declines) still commit what the request
    changed, as Stripe records a failed charge and updates the PaymentIntent."""

    def __init__(
        self,
        message: str,
        *,
        type: str = "invalid_request_error",
        status: int = 400,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        keeps_state: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.type = type
        self.status = status
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.keeps_state = keeps_state

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        error.update(self.extra)
        if request_id:
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t=sandbox"
            )
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(message, param=param, code=code)


def missing_param(name: str) -> StripeError:
    return StripeError(f"Missing required param: {name}.", param=name, code="parameter_missing")


def no_such(object_type: str, stripe_id: str, *, param: str = "id") -> StripeError:
    label = object_type.replace("_", " ")
    if object_type in {"payment_intent", "payment_method"}:
        label = object_type
    return StripeError(
        f"No such {label}: '{stripe_id}'",
        status=404,
        code="resource_missing",
        param=param,
    )


def unexpected_state(message: str, *, code: str = "payment_intent_unexpected_state") -> StripeError:
    return StripeError(message, code=code)
