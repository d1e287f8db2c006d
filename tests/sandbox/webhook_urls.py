"""A test-only webhook receiver: verifies the signature with the SDK and records events."""

import stripe
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

SECRETS: dict[str, str] = {}
RECEIVED: list[dict] = []


@csrf_exempt
def receive(request, name):
    if name == "broken":
        return HttpResponse("boom", status=500)
    try:
        event = stripe.Webhook.construct_event(
            request.body.decode(), request.headers.get("Stripe-Signature", ""), SECRETS[name]
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        return HttpResponse(str(error), status=400)
    RECEIVED.append({"name": name, "id": event.id, "type": event.type})
    return HttpResponse("ok")


urlpatterns = [path("hooks/<str:name>/", receive)]
