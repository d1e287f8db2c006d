import pytest

from payments.models import Payout
from tests.payments import stripe_objects as so
from tests.payments.stripe_objects import FakeEvent, at

pytestmark = pytest.mark.django_db


def test_an_automatic_payout_is_mirrored_when_no_stripe_key_is_saved(acme, deliver, in_acme):
    deliver(FakeEvent(acme, "payout.paid", so.payout(status="paid", automatic=True), at(50)))

    payout = Payout.objects.get()
    assert (payout.status, payout.automatic) == ("paid", True)
