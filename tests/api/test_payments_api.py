"""The payments resources end to end through the sandbox: each endpoint's happy path, its
validation errors and another account's ids (404), with what a platform backend would
check: the answer, the mirror row, the audit entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_scopes import scope

from dashboard.models import AuditLog
from payments import services
from payments.models import BalanceTransaction, Charge, Customer, PaymentMethod
from sandbox import services as sandbox_services
from tests.api.conftest import error_of
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db


def audited(account, action):
    with scope(account=account):
        return AuditLog.objects.filter(action=action).first()


def charge_card(api, payer, **changes):
    body = {"customer": payer.stripe_id, "amount": 2000, "currency": "usd"}
    return api.post("/api/v1/payment_intents", {**body, **changes})


# --- Customers --------------------------------------------------------------------------


def test_it_creates_a_customer(api, acme):
    response = api.post("/api/v1/customers", {"email": "ada@example.com", "name": "Ada"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "customer" and body["id"].startswith("cus_")
    assert (body["email"], body["name"], body["phone"]) == ("ada@example.com", "Ada", None)
    with scope(account=acme):
        assert Customer.objects.get(stripe_id=body["id"]).email == "ada@example.com"
    entry = audited(acme, "customer.created")
    assert entry.actor is None and "API key" in entry.user_agent


def test_it_retrieves_updates_and_deletes_a_customer(api, acme, customer):
    path = f"/api/v1/customers/{customer.stripe_id}"
    assert api.get(path).json()["email"] == "jenny@example.com"

    updated = api.post(path, {"name": "Jenny Rosen", "phone": "+15555550100"})
    assert updated.status_code == 200
    assert (updated.json()["name"], updated.json()["phone"]) == ("Jenny Rosen", "+15555550100")
    customer.refresh_from_db()
    assert customer.name == "Jenny Rosen"

    deleted = api.delete(path)
    assert deleted.json() == {"id": customer.stripe_id, "object": "customer", "deleted": True}
    customer.refresh_from_db()
    assert customer.deleted
    assert api.get(path).status_code == 404
    assert audited(acme, "customer.deleted") is not None


def test_it_lists_customers_newest_first_with_cursors(api, acme, connected, owner_user):
    made = [
        services.customer_create(
            account=acme, livemode=False, email=f"c{n}@example.com", actor=owner_user
        ).stripe_id
        for n in range(5)
    ]
    newest_first = list(reversed(made))

    first = api.get("/api/v1/customers", {"limit": 2}).json()
    assert first["object"] == "list" and first["url"] == "/api/v1/customers"
    assert [c["id"] for c in first["data"]] == newest_first[:2]
    assert first["has_more"] is True

    second = api.get("/api/v1/customers", {"limit": 2, "starting_after": newest_first[1]}).json()
    assert [c["id"] for c in second["data"]] == newest_first[2:4]
    last = api.get("/api/v1/customers", {"limit": 2, "starting_after": newest_first[3]}).json()
    assert [c["id"] for c in last["data"]] == newest_first[4:]
    assert last["has_more"] is False

    back = api.get("/api/v1/customers", {"limit": 2, "ending_before": newest_first[4]}).json()
    assert [c["id"] for c in back["data"]] == newest_first[2:4]
    assert back["has_more"] is True

    by_email = api.get("/api/v1/customers", {"email": "C3@example.com"}).json()
    assert [c["id"] for c in by_email["data"]] == [made[3]]


@pytest.mark.parametrize(
    "params, param",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"starting_after": "cus_nope"}, "starting_after"),
        ({"starting_after": "a", "ending_before": "b"}, "ending_before"),
    ],
)
def test_list_parameters_are_validated(api, params, param):
    response = api.get("/api/v1/customers", params)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


@pytest.mark.parametrize(
    "body, code, param",
    [
        ({"email": "x" * 600}, "parameter_invalid", "email"),
        ({"emial": "typo@example.com"}, "parameter_unknown", "emial"),
        ({"name": ["Jenny"]}, "parameter_invalid", "name"),
        (["not", "an", "object"], "parameter_invalid", None),
    ],
)
def test_customer_bodies_are_validated(api, acme, body, code, param):
    response = api.post("/api/v1/customers", body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["param"]) == (code, param)
    with scope(account=acme):
        assert not Customer.objects.exists()


def test_a_body_that_is_not_json_is_refused(api):
    response = api.client.post(
        "/api/v1/customers",
        "email=a@example.com",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {api.secret}"},
    )
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_another_accounts_customer_is_a_404(api, outsider_api, globex_customer, customer):
    path = f"/api/v1/customers/{globex_customer.stripe_id}"
    for response in (api.get(path), api.post(path, {"name": "Mine now"}), api.delete(path)):
        assert response.status_code == 404
        assert error_of(response)["code"] == "resource_missing"
    globex_customer.refresh_from_db()
    assert not globex_customer.deleted and globex_customer.name == ""
    listed = outsider_api.get("/api/v1/customers").json()["data"]
    assert [c["id"] for c in listed] == [globex_customer.stripe_id]


# --- Payment methods --------------------------------------------------------------------


def test_it_attaches_lists_and_detaches_a_card(api, acme, customer):
    attached = api.post(
        "/api/v1/payment_methods/pm_card_visa/attach", {"customer": customer.stripe_id}
    )
    assert attached.status_code == 200
    method = attached.json()
    assert method["customer"] == customer.stripe_id
    assert (method["card"]["brand"], method["card"]["last4"]) == ("visa", "4242")
    assert "number" not in method["card"]

    listed = api.get("/api/v1/payment_methods", {"customer": customer.stripe_id}).json()
    assert [m["id"] for m in listed["data"]] == [method["id"]]

    detached = api.post(f"/api/v1/payment_methods/{method['id']}/detach")
    assert detached.json()["customer"] is None
    with scope(account=acme):
        assert PaymentMethod.objects.get(stripe_id=method["id"]).customer_stripe_id == ""
    assert api.get("/api/v1/payment_methods", {"customer": customer.stripe_id}).json()["data"] == []
    assert audited(acme, "payment_method.detached") is not None


def test_attaching_needs_a_customer_and_a_payment_method_id(api, customer):
    missing = api.post("/api/v1/payment_methods/pm_card_visa/attach", {})
    assert error_of(missing) == {
        "type": "invalid_request_error",
        "code": "parameter_missing",
        "message": "Missing required param: customer.",
        "param": "customer",
    }
    not_an_id = api.post(
        "/api/v1/payment_methods/4242424242424242/attach", {"customer": customer.stripe_id}
    )
    assert not_an_id.status_code == 400
    assert "4242424242424242" not in not_an_id.content.decode()
    assert api.get("/api/v1/payment_methods").status_code == 400


def test_payment_methods_of_another_account_are_404(api, card, outsider_api, globex_customer):
    assert outsider_api.post(f"/api/v1/payment_methods/{card.stripe_id}/detach").status_code == 404
    assert (
        outsider_api.get("/api/v1/payment_methods", {"customer": card.customer_stripe_id})
    ).status_code == 404
    attach_to_theirs = api.post(
        "/api/v1/payment_methods/pm_card_visa/attach", {"customer": globex_customer.stripe_id}
    )
    assert attach_to_theirs.status_code == 404
    card.refresh_from_db()
    assert card.customer_stripe_id != ""


# --- Payments ---------------------------------------------------------------------------


def test_it_charges_a_saved_card_off_session(api, acme, customer, card):
    response = charge_card(api, customer, description="Order 42")
    assert response.status_code == 200
    intent = response.json()
    assert intent["object"] == "payment_intent" and intent["id"].startswith("pi_")
    assert (intent["amount"], intent["currency"], intent["status"]) == (2000, "usd", "succeeded")
    assert intent["payment_method"] == card.stripe_id
    assert api.get(f"/api/v1/payment_intents/{intent['id']}").json()["status"] == "succeeded"
    listed = api.get("/api/v1/payment_intents", {"customer": customer.stripe_id}).json()
    assert [i["id"] for i in listed["data"]] == [intent["id"]]
    assert audited(acme, "payment.created").metadata["amount"] == 2000


def test_a_card_needing_authentication_on_session_asks_for_action(api, acme, owner_user, customer):
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_authenticationRequired",
        make_default=True,
        actor=owner_user,
    )
    on_session = charge_card(api, customer, off_session=False)
    assert on_session.status_code == 200
    assert on_session.json()["status"] == "requires_action"
    assert on_session.json()["next_action"]["type"] == "use_stripe_sdk"

    off_session = charge_card(api, customer)
    assert off_session.status_code == 402
    error = error_of(off_session)
    assert (error["type"], error["code"]) == ("card_error", "authentication_required")


def test_a_declined_card_is_a_402_card_error(api, acme, owner_user, customer):
    refused_on_attach = api.post(
        "/api/v1/payment_methods/pm_card_chargeDeclined/attach", {"customer": customer.stripe_id}
    )
    assert refused_on_attach.status_code == 402
    assert error_of(refused_on_attach)["type"] == "card_error"

    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_chargeDeclinedInsufficientFunds",
        make_default=True,
        actor=owner_user,
    )
    response = charge_card(api, customer)
    assert response.status_code == 402
    error = error_of(response)
    assert (error["type"], error["code"]) == ("card_error", "insufficient_funds")
    assert audited(acme, "payment.declined") is not None


def test_it_captures_and_cancels_manual_payments(api, customer, card):
    first = charge_card(api, customer, capture_method="manual").json()
    assert first["status"] == "requires_capture"
    captured = api.post(
        f"/api/v1/payment_intents/{first['id']}/capture", {"amount_to_capture": 1500}
    )
    assert (captured.json()["status"], captured.json()["amount_received"]) == ("succeeded", 1500)

    second = charge_card(api, customer, capture_method="manual").json()
    canceled = api.post(
        f"/api/v1/payment_intents/{second['id']}/cancel", {"cancellation_reason": "abandoned"}
    )
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["cancellation_reason"] == "abandoned"

    again = api.post(f"/api/v1/payment_intents/{second['id']}/capture")
    assert again.status_code == 400
    assert error_of(again)["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "changes, param",
    [
        ({"amount": 0}, "amount"),
        ({"amount": "20.00"}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"customer": None}, "customer"),
        ({"capture_method": "later"}, "capture_method"),
    ],
)
def test_payment_bodies_are_validated(api, customer, card, changes, param):
    response = charge_card(api, customer, **changes)
    assert response.status_code == 400
    assert error_of(response)["param"] == param


def test_payments_of_another_account_are_404(api, customer, card, outsider_api, globex_customer):
    intent = charge_card(api, customer, capture_method="manual").json()
    for response in (
        outsider_api.get(f"/api/v1/payment_intents/{intent['id']}"),
        outsider_api.post(f"/api/v1/payment_intents/{intent['id']}/capture"),
        outsider_api.post(f"/api/v1/payment_intents/{intent['id']}/cancel"),
        outsider_api.post(
            "/api/v1/payment_intents",
            {"customer": customer.stripe_id, "amount": 100, "currency": "usd"},
        ),
    ):
        assert response.status_code == 404
    assert api.get(f"/api/v1/payment_intents/{intent['id']}").json()["status"] == "requires_capture"


# --- Refunds ----------------------------------------------------------------------------


def test_it_refunds_by_payment_intent_or_charge_and_lists_refunds(api, acme, customer, card):
    intent = charge_card(api, customer).json()
    partial = api.post("/api/v1/refunds", {"payment_intent": intent["id"], "amount": 500})
    assert partial.status_code == 200
    assert (partial.json()["amount"], partial.json()["charge"]) == (500, intent["latest_charge"])

    rest = api.post("/api/v1/refunds", {"charge": intent["latest_charge"], "reason": "duplicate"})
    assert rest.json()["amount"] == 1500
    listed = api.get("/api/v1/refunds", {"payment_intent": intent["id"]}).json()
    assert [r["id"] for r in listed["data"]] == [rest.json()["id"], partial.json()["id"]]
    with scope(account=acme):
        assert Charge.objects.get(stripe_id=intent["latest_charge"]).refunded

    too_much = api.post("/api/v1/refunds", {"charge": intent["latest_charge"], "amount": 1})
    assert too_much.status_code == 400
    assert error_of(too_much)["type"] == "invalid_request_error"


def test_refund_bodies_are_validated(api, customer, card):
    intent = charge_card(api, customer).json()
    neither = api.post("/api/v1/refunds", {"amount": 100})
    assert error_of(neither)["param"] == "charge"
    both = api.post(
        "/api/v1/refunds", {"charge": intent["latest_charge"], "payment_intent": intent["id"]}
    )
    assert both.status_code == 400
    reason = api.post("/api/v1/refunds", {"charge": intent["latest_charge"], "reason": "meh"})
    assert error_of(reason)["param"] == "reason"


def test_another_accounts_charge_cannot_be_refunded(api, outsider_api, customer, card):
    intent = charge_card(api, customer).json()
    response = outsider_api.post("/api/v1/refunds", {"charge": intent["latest_charge"]})
    assert response.status_code == 404
    assert outsider_api.get("/api/v1/refunds").json()["data"] == []


# --- Balance, balance transactions, payouts ---------------------------------------------


def test_balance_and_balance_transactions(api, acme, customer, card):
    charge_card(api, customer, amount=10_000)
    webhooks_arrive()
    balance = api.get("/api/v1/balance").json()
    assert balance["object"] == "balance" and balance["livemode"] is False
    with scope(account=acme):
        net = BalanceTransaction.objects.get(type="charge").net
    assert balance["pending"] == [{"amount": net, "currency": "usd"}]
    assert balance["available"] == [{"amount": 0, "currency": "usd"}]

    listed = api.get("/api/v1/balance_transactions", {"type": "charge"}).json()
    (item,) = listed["data"]
    assert (item["amount"], item["net"], item["status"]) == (10_000, net, "pending")
    created = item["created"]
    assert api.get("/api/v1/balance_transactions", {"created[gte]": created}).json()["data"]
    assert not api.get("/api/v1/balance_transactions", {"created[gt]": created + 60}).json()["data"]
    assert not api.get("/api/v1/balance_transactions", {"type": "refund"}).json()["data"]
    wrong = api.get("/api/v1/balance_transactions", {"type": "gift"})
    assert error_of(wrong)["param"] == "type"


def test_it_creates_and_lists_manual_payouts(api, acme, connected, customer, card):
    charge_card(api, customer, amount=10_000)
    webhooks_arrive()
    with scope(account=acme):
        available_on = BalanceTransaction.objects.get().available_on
    token = connected.secret_key(livemode=False).removeprefix("sk_test_sbx_")
    sandbox_services.automatic_payouts_set(token_or_account=token, enabled=False)
    sandbox_services.clock_advance(token_or_account=token, to=available_on + timedelta(hours=1))
    webhooks_arrive()

    created = api.post("/api/v1/payouts", {"amount": 5000, "currency": "usd"})
    assert created.status_code == 200
    payout = created.json()
    assert (payout["object"], payout["amount"], payout["automatic"]) == ("payout", 5000, False)
    assert api.get(f"/api/v1/payouts/{payout['id']}").json()["id"] == payout["id"]
    assert [p["id"] for p in api.get("/api/v1/payouts").json()["data"]] == [payout["id"]]
    assert audited(acme, "payout.created") is not None

    too_much = api.post("/api/v1/payouts", {"amount": 10**7, "currency": "usd"})
    assert too_much.status_code == 400
    missing = api.post("/api/v1/payouts", {"currency": "usd"})
    assert error_of(missing)["code"] == "parameter_missing"


def test_payouts_of_another_account_are_404(api, outsider_api, acme, owner_user, connected):
    assert outsider_api.get("/api/v1/payouts/po_unknown").status_code == 404


# --- Disputes ---------------------------------------------------------------------------


@pytest.fixture
def dispute(api, acme, owner_user, customer):
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_createDispute",
        make_default=True,
        actor=owner_user,
    )
    charge_card(api, customer, amount=3000)
    webhooks_arrive()
    (listed,) = api.get("/api/v1/disputes").json()["data"]
    return listed


def test_it_lists_and_retrieves_disputes(api, dispute):
    assert (dispute["amount"], dispute["reason"], dispute["status"]) == (
        3000,
        "fraudulent",
        "needs_response",
    )
    assert api.get(f"/api/v1/disputes/{dispute['id']}").json()["charge"] == dispute["charge"]


def test_it_saves_then_submits_evidence(api, acme, dispute):
    path = f"/api/v1/disputes/{dispute['id']}"
    saved = api.post(path, {"evidence": {"product_description": "A blue mug"}})
    assert saved.status_code == 200
    assert saved.json()["evidence"]["product_description"] == "A blue mug"
    assert audited(acme, "dispute.evidence_saved") is not None

    submitted = api.post(path, {"submit": True})
    assert submitted.json()["status"] == "under_review"
    late = api.post(path, {"evidence": {"product_description": "Changed"}})
    assert late.status_code == 400


def test_evidence_is_validated(api, dispute):
    path = f"/api/v1/disputes/{dispute['id']}"
    unknown = api.post(path, {"evidence": {"card_number": "4242424242424242"}})
    assert error_of(unknown)["param"] == "evidence[card_number]"
    assert api.post(path, {"submit": "maybe"}).status_code == 400


def test_it_closes_a_dispute(api, acme, dispute):
    closed = api.post(f"/api/v1/disputes/{dispute['id']}/close")
    assert closed.json()["status"] == "lost"
    assert audited(acme, "dispute.accepted") is not None


def test_disputes_of_another_account_are_404(outsider_api, dispute):
    path = f"/api/v1/disputes/{dispute['id']}"
    assert outsider_api.get(path).status_code == 404
    assert outsider_api.post(path, {"submit": True}).status_code == 404
    assert outsider_api.post(f"{path}/close").status_code == 404
