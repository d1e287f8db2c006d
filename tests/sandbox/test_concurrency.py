import threading

import pytest
import stripe
from django.db import connection

from tests.sandbox.conftest import make_client, pay, sandbox_key


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_cannot_refund_a_charge_twice():
    key = sandbox_key()
    client = make_client(key)
    intent = pay(client, amount=5000)
    outcomes = []
    barrier = threading.Barrier(4)

    def refund():
        barrier.wait()
        try:
            make_client(key).v1.refunds.create(params={"charge": intent.latest_charge})
            outcomes.append("refunded")
        except stripe.InvalidRequestError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["charge_already_refunded"] * 3 + ["refunded"]
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 5000
    assert len(client.v1.refunds.list().data) == 1
