"""Transactions list and payment detail: figures, filters, keyset pages, and refund,
capture and cancel end to end through the sandbox, per role."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from dashboard.models import AuditLog
from dashboard.roles import Role
from payments import services, views_payments
from payments.models import Charge, PaymentIntent, Refund
from tests.payments import stripe_objects as so
from tests.payments.pages_support import (
    link,
    member_in_test_mode,
    mirror_charge,
    role_in_test_mode,
    row_ids,
    store,
)
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture
def owner(owner_user):
    return member_in_test_mode(owner_user)


@pytest.fixture
def viewer(viewer_user):
    return member_in_test_mode(viewer_user)


def list_url(**query) -> str:
    url = reverse("payments:payment_list", args=["acme"])
    if query:
        url += "?" + "&".join(f"{name}={value}" for name, value in query.items())
    return url


def detail_url(payment_id: str, action: str = "") -> str:
    name = f"payments:payment_{action}" if action else "payments:payment_detail"
    return reverse(name, args=["acme", payment_id])


# --- The list ---------------------------------------------------------------------------


def test_the_list_shows_the_mirrors_figures(owner, acme):
    store(acme, "customer", so.customer(id="cus_jenny", email="jenny@example.com"))
    store(acme, "balance_transaction", so.balance_transaction(id="txn_1", amount=2500, fee=103))
    mirror_charge(
        acme,
        "ch_1",
        amount=2500,
        customer="cus_jenny",
        balance_transaction="txn_1",
        brand="mastercard",
        last4="4444",
    )

    response = owner.get(list_url())

    assert response.status_code == 200
    row = response.content.decode().split('data-payment="ch_1"')[1].split("</tr>")[0]
    assert "$25.00" in row
    assert "$1.03" in row
    assert "jenny@example.com" in row
    assert "Mastercard</span> •••• 4444" in row
    assert 'data-status="succeeded"' in row
    assert "Jun 15, 2025 15:06" in row  # UTC is acme's timezone


def test_dates_are_shown_in_the_accounts_timezone(owner, acme):
    acme.timezone = "America/New_York"
    acme.save()
    mirror_charge(acme, "ch_1")

    assert "Jun 15, 2025 11:06" in owner.get(list_url()).content.decode()


def test_an_empty_list_says_so(owner, acme):
    response = owner.get(list_url())
    assert "Payments appear here as soon as the first one is made." in response.content.decode()

    mirror_charge(acme, "ch_1")
    response = owner.get(list_url(status="failed"))
    assert "No payments match these filters." in response.content.decode()


def test_live_mode_does_not_show_test_payments(owner_user, acme):
    mirror_charge(acme, "ch_1")
    live = member_in_test_mode(owner_user)
    with scope(account=acme):
        owner_user.memberships.update(test_mode=False)
    assert row_ids(live.get(list_url())) == []


@pytest.fixture
def one_of_each_status(acme):
    store(acme, "payment_intent", so.payment_intent(id="pi_canceled", status="canceled"))
    store(acme, "payment_intent", so.payment_intent(id="pi_3ds", status="requires_action"))
    mirror_charge(acme, "ch_succeeded")
    mirror_charge(acme, "ch_uncaptured", captured=False, amount_captured=0)
    mirror_charge(acme, "ch_refunded", refunded=True, amount_refunded=1000)
    mirror_charge(acme, "ch_partial", amount_refunded=400)
    mirror_charge(acme, "ch_failed", status="failed")
    mirror_charge(acme, "ch_disputed", disputed=True, amount_refunded=1000, refunded=True)
    mirror_charge(
        acme,
        "ch_canceled",
        payment_intent="pi_canceled",
        captured=False,
        refunded=True,
        amount_refunded=1000,
    )
    mirror_charge(acme, "ch_incomplete", status="pending", payment_intent="pi_3ds")


@pytest.mark.parametrize(
    "status",
    [
        "succeeded",
        "uncaptured",
        "refunded",
        "partially_refunded",
        "failed",
        "disputed",
        "canceled",
        "incomplete",
    ],
)
def test_it_filters_by_status(owner, one_of_each_status, status):
    expected = {"partially_refunded": "ch_partial"}.get(status, f"ch_{status}")

    response = owner.get(list_url(status=status))

    assert row_ids(response) == [expected]
    assert f'data-status="{status}"' in response.content.decode()


def test_every_payment_shows_exactly_one_status(owner, one_of_each_status):
    response = owner.get(list_url())
    assert len(row_ids(response)) == 8
    assert response.content.decode().count("data-status=") == 8


def test_it_filters_by_date_range_in_the_accounts_timezone(owner, acme):
    acme.timezone = "America/New_York"
    acme.save()
    mirror_charge(acme, "ch_14th", created=-DAY)  # Jun 14, 11:06 in New York
    mirror_charge(acme, "ch_late_15th", created=11 * 3600)  # Jun 16 02:06 UTC, 22:06 NY
    mirror_charge(acme, "ch_16th", created=DAY)

    assert row_ids(owner.get(list_url(created_from="2025-06-15", created_to="2025-06-15"))) == [
        "ch_late_15th"
    ]
    assert row_ids(owner.get(list_url(created_from="2025-06-16"))) == ["ch_16th"]
    assert row_ids(owner.get(list_url(created_to="2025-06-14"))) == ["ch_14th"]


def test_it_filters_by_amount_in_major_units(owner, acme):
    for index, amount in enumerate([2499, 2500, 5000, 5001]):
        mirror_charge(acme, f"ch_{amount}", amount=amount, created=index)

    response = owner.get(list_url(amount_min="25", amount_max="50.00"))

    assert row_ids(response) == ["ch_5000", "ch_2500"]


def test_amounts_convert_with_the_filtered_currencys_decimals(owner, acme):
    mirror_charge(acme, "ch_yen", amount=2500, currency="jpy")
    mirror_charge(acme, "ch_usd", amount=2500, currency="usd", created=1)

    assert row_ids(owner.get(list_url(currency="jpy", amount_min="2500"))) == ["ch_yen"]
    assert row_ids(owner.get(list_url(currency="usd", amount_min="2500"))) == []


def test_an_unreadable_amount_is_reported_and_ignored(owner, acme):
    mirror_charge(acme, "ch_1")

    response = owner.get(list_url(amount_min="ten", amount_max="1.001"))

    assert row_ids(response) == ["ch_1"]
    assert "Enter an amount in USD, like 25 or 25.00." in response.content.decode()


def test_it_filters_by_currency_brand_and_customer(owner, acme):
    store(acme, "customer", so.customer(id="cus_a"))
    mirror_charge(acme, "ch_eur", currency="eur")
    mirror_charge(acme, "ch_amex", brand="amex", created=1)
    mirror_charge(acme, "ch_cus", customer="cus_a", created=2)

    assert row_ids(owner.get(list_url(currency="EUR"))) == ["ch_eur"]
    assert row_ids(owner.get(list_url(card_brand="amex"))) == ["ch_amex"]
    assert row_ids(owner.get(list_url(customer="cus_a"))) == ["ch_cus"]
    assert row_ids(owner.get(list_url(customer="cus_a", currency="eur"))) == []


def test_htmx_filters_get_only_the_table(owner, acme):
    mirror_charge(acme, "ch_1")

    response = owner.get(list_url(status="succeeded"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="payments-table">')
    assert "<html" not in body
    assert row_ids(response) == ["ch_1"]


def test_pages_walk_forward_and_back_without_gaps_or_repeats(owner, acme, monkeypatch):
    monkeypatch.setattr(views_payments, "PAGE_SIZE", 3)
    # Pairs share a second, as Stripe's whole-second `created` often does.
    for index in range(10):
        mirror_charge(acme, f"ch_{index:02d}", created=index // 2, amount=1000 + index)
    mirror_charge(acme, "ch_other", currency="eur", created=99)  # filtered out throughout

    pages, url = [], list_url(currency="usd")
    while url:
        response = owner.get(url)
        pages.append(row_ids(response))
        url = link(response, "next")
        assert url is None or "currency=usd" in url
    seen = [payment for page in pages for payment in page]

    assert len(pages) == 4
    assert seen == ["ch_09", "ch_08", "ch_07", "ch_06", "ch_05", "ch_04", "ch_03", "ch_02",
                    "ch_01", "ch_00"]  # fmt: skip

    back, url = [], link(owner.get(list_url(currency="usd", after=_cursor_of(owner, 3))), "prev")
    while url:
        response = owner.get(url)
        back.append(row_ids(response))
        url = link(response, "prev")
    assert back == [pages[2], pages[1], pages[0]]


def _cursor_of(client, pages_in: int) -> str:
    """The `after` cursor that opens page `pages_in + 1` (following Next links)."""
    url = list_url(currency="usd")
    for _ in range(pages_in):
        url = link(client.get(url), "next")
    return url.split("after=")[1].split("&")[0]


def test_a_broken_cursor_shows_the_first_page(owner, acme):
    mirror_charge(acme, "ch_1")

    response = owner.get(list_url(after="not-a-cursor"))

    assert response.status_code == 200
    assert row_ids(response) == ["ch_1"]


def test_the_list_stays_under_a_query_ceiling(owner, acme, django_assert_max_num_queries):
    store(acme, "customer", so.customer(id="cus_a"))
    store(acme, "payment_intent", so.payment_intent(id="pi_a"))
    for index in range(30):
        mirror_charge(acme, f"ch_{index}", created=index, customer="cus_a", payment_intent="pi_a")
    owner.get(list_url())  # the first visit records the recent page

    # The shell costs 12 (session, user, account, membership, shortcuts, recent pages);
    # the list itself is one query whatever the number of rows.
    with django_assert_max_num_queries(13):
        response = owner.get(list_url())

    assert len(row_ids(response)) == 25


# --- Detail -----------------------------------------------------------------------------


@pytest.fixture
def customer(connected, acme, owner_user):
    customer = services.customer_create(
        account=acme, livemode=False, email="jenny@example.com", name="Jenny", actor=owner_user
    )
    services.payment_method_attach(
        account=acme,
        livemode=False,
        customer=customer,
        payment_method="pm_card_visa",
        make_default=True,
        actor=owner_user,
    )
    return customer


def pay(acme, owner_user, customer, amount=2000, capture=True) -> PaymentIntent:
    return services.payment_charge_saved_card(
        account=acme,
        livemode=False,
        customer=customer,
        amount=amount,
        currency="usd",
        actor=owner_user,
        capture=capture,
    )


@pytest.fixture
def paid(acme, owner_user, customer) -> PaymentIntent:
    return pay(acme, owner_user, customer)


def charge_of(acme, intent) -> Charge:
    with scope(account=acme):
        return Charge.objects.get(payment_intent_stripe_id=intent.stripe_id)


def test_the_detail_shows_amount_fee_net_method_checks_and_customer(owner, acme, paid):
    response = owner.get(detail_url(paid.stripe_id))

    body = response.content.decode()
    assert response.status_code == 200
    assert "$20.00" in body
    assert "-$0.88" in body  # 2.9% + 30¢, from the balance transaction
    assert 'data-testid="net"><strong>$19.12' in body
    assert "Visa •••• 4242" in body
    assert "Jenny" in body and "jenny@example.com" in body
    assert 'data-status="succeeded"' in body
    charge = charge_of(acme, paid)
    cvc = (charge.data["payment_method_details"]["card"]["checks"] or {}).get("cvc_check")
    assert f'data-testid="cvc-check">{cvc or "not checked"}' in body


def test_the_charge_id_opens_the_same_payment(owner, acme, paid):
    charge = charge_of(acme, paid)
    response = owner.get(detail_url(charge.stripe_id))
    assert response.status_code == 200
    assert paid.stripe_id in response.content.decode()


def test_the_timeline_lists_the_payments_events_newest_first(owner, acme, paid):
    webhooks_arrive()

    body = owner.get(detail_url(paid.stripe_id)).content.decode()

    timeline = body.split('data-testid="timeline"')[1]
    assert "charge.succeeded" in timeline
    assert "payment_intent.succeeded" in timeline
    assert "payment_intent.created" in timeline
    assert timeline.index("payment_intent.succeeded") < timeline.index("payment_intent.created")
    assert "customer.created" not in timeline


def test_metadata_is_shown(owner, acme):
    store(acme, "payment_intent", so.payment_intent(id="pi_m", metadata={"order_id": "A-1042"}))
    mirror_charge(acme, "ch_m", payment_intent="pi_m")

    body = owner.get(detail_url("pi_m")).content.decode()

    assert "<dt>order_id</dt><dd>A-1042</dd>" in body


@pytest.mark.parametrize("payment_id", ["pi_missing", "ch_missing", "cus_1", "x"])
def test_an_unknown_payment_is_a_404(owner, acme, payment_id):
    assert owner.get(detail_url(payment_id)).status_code == 404


def test_another_tenants_payment_is_a_404(owner, acme, globex):
    store(globex, "payment_intent", so.payment_intent(id="pi_globex"))
    store(globex, "charge", so.charge(id="ch_globex", payment_intent="pi_globex"))

    assert owner.get(detail_url("pi_globex")).status_code == 404
    assert owner.get(detail_url("ch_globex")).status_code == 404
    assert owner.post(detail_url("ch_globex", "refund"), {}).status_code == 404
    with scope(account=globex):
        assert not Refund.objects.exists()


# --- Refund -----------------------------------------------------------------------------


def test_a_full_refund_from_the_detail_page(owner, acme, paid):
    response = owner.post(
        detail_url(paid.stripe_id, "refund"), {"amount": "", "reason": "requested_by_customer"}
    )

    assert response.status_code == 302
    assert response.url == detail_url(paid.stripe_id)
    charge = charge_of(acme, paid)
    assert (charge.refunded, charge.amount_refunded) == (True, 2000)
    with scope(account=acme):
        refund = Refund.objects.get()
        assert (refund.amount, refund.reason) == (2000, "requested_by_customer")
        assert AuditLog.objects.get(action="payment.refunded").object_id == refund.stripe_id
    page = owner.get(response.url).content.decode()
    assert "Refunded $20.00." in page
    assert 'data-status="refunded"' in page
    assert refund.stripe_id in page


def test_a_partial_refund_from_the_detail_page(owner, acme, paid):
    response = owner.post(detail_url(paid.stripe_id, "refund"), {"amount": "5.50"})

    assert response.status_code == 302
    charge = charge_of(acme, paid)
    assert (charge.refunded, charge.amount_refunded) == (False, 550)
    page = owner.get(response.url).content.decode()
    assert 'data-status="partially_refunded"' in page
    assert 'data-testid="amount-refunded">$5.50' in page


def test_an_over_refund_shows_stripes_error_and_changes_nothing(owner, acme, paid):
    owner.post(detail_url(paid.stripe_id, "refund"), {"amount": "15"})
    before = charge_of(acme, paid)

    response = owner.post(detail_url(paid.stripe_id, "refund"), {"amount": "10.00"}, follow=True)

    assert (
        "Refund amount ($10.00) is greater than unrefunded amount on charge ($5.00)"
        in response.content.decode()
    )
    after = charge_of(acme, paid)
    assert (after.amount_refunded, after.data) == (before.amount_refunded, before.data)
    with scope(account=acme):
        assert Refund.objects.count() == 1
        assert AuditLog.objects.filter(action="payment.refunded").count() == 1


def test_an_htmx_refund_answers_with_the_updated_partial(owner, acme, paid):
    response = owner.post(
        detail_url(paid.stripe_id, "refund"), {"amount": "1"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="payment"')
    assert "Refunded $1.00." in body
    assert 'data-testid="amount-refunded">$1.00' in body


def test_a_malformed_refund_amount_is_refused_before_stripe(owner, acme, paid):
    response = owner.post(detail_url(paid.stripe_id, "refund"), {"amount": "1.234"})

    assert response.status_code == 400
    assert "Enter an amount in USD" in response.content.decode()
    assert charge_of(acme, paid).amount_refunded == 0


def test_view_only_cannot_refund(viewer, acme, paid):
    response = viewer.post(detail_url(paid.stripe_id, "refund"), {"amount": ""})

    assert response.status_code == 403
    assert charge_of(acme, paid).amount_refunded == 0
    with scope(account=acme):
        assert not Refund.objects.exists()
    assert (
        'data-testid="refund-form"' not in viewer.get(detail_url(paid.stripe_id)).content.decode()
    )


def test_an_analyst_can_refund(acme, paid):
    analyst = role_in_test_mode(acme, Role.ANALYST)

    response = analyst.post(detail_url(paid.stripe_id, "refund"), {"amount": "2"})

    assert response.status_code == 302
    assert charge_of(acme, paid).amount_refunded == 200
    with scope(account=acme):
        assert AuditLog.objects.get(action="payment.refunded").actor_email == "analyst@acme.test"


# --- Capture and cancel -----------------------------------------------------------------


@pytest.fixture
def authorised(acme, owner_user, customer) -> PaymentIntent:
    return pay(acme, owner_user, customer, amount=3000, capture=False)


def intent_of(acme, intent) -> PaymentIntent:
    with scope(account=acme):
        return PaymentIntent.objects.get(stripe_id=intent.stripe_id)


def test_an_uncaptured_payment_shows_capture_and_cancel(owner, acme, authorised):
    body = owner.get(detail_url(authorised.stripe_id)).content.decode()

    assert 'data-status="uncaptured"' in body
    assert 'data-testid="capture-form"' in body
    assert 'data-testid="cancel-form"' in body
    assert 'data-testid="refund-form"' not in body


def test_a_partial_capture(owner, acme, authorised):
    response = owner.post(detail_url(authorised.stripe_id, "capture"), {"amount": "12.00"})

    assert response.status_code == 302
    intent = intent_of(acme, authorised)
    assert (intent.status, intent.amount_received) == ("succeeded", 1200)
    charge = charge_of(acme, authorised)
    assert (charge.captured, charge.amount_captured) == (True, 1200)
    with scope(account=acme):
        assert AuditLog.objects.get(action="payment.captured").metadata["amount"] == 1200
    assert "Captured $12.00." in owner.get(response.url).content.decode()


def test_a_full_capture(owner, acme, authorised):
    owner.post(detail_url(authorised.stripe_id, "capture"), {"amount": ""})

    assert intent_of(acme, authorised).amount_received == 3000


def test_capturing_more_than_authorised_shows_stripes_error(owner, acme, authorised):
    response = owner.post(
        detail_url(authorised.stripe_id, "capture"), {"amount": "31"}, follow=True
    )

    assert 'class="message message-error"' in response.content.decode()
    intent = intent_of(acme, authorised)
    assert (intent.status, intent.amount_received) == ("requires_capture", 0)


def test_cancel_an_uncaptured_payment(owner, acme, authorised):
    response = owner.post(
        detail_url(authorised.stripe_id, "cancel"), {"reason": "requested_by_customer"}
    )

    assert response.status_code == 302
    assert intent_of(acme, authorised).status == "canceled"
    with scope(account=acme):
        assert AuditLog.objects.get(action="payment.canceled").metadata == {
            "reason": "requested_by_customer"
        }
    webhooks_arrive()
    assert row_ids(owner.get(list_url(status="canceled"))) == [
        charge_of(acme, authorised).stripe_id
    ]


def test_a_captured_payment_cannot_be_captured_or_canceled(owner, acme, paid):
    assert owner.post(detail_url(paid.stripe_id, "capture"), {}).status_code == 400
    response = owner.post(detail_url(paid.stripe_id, "cancel"), {})
    assert response.status_code == 400
    assert "Only an uncaptured payment can be canceled." in response.content.decode()
    assert intent_of(acme, paid).status == "succeeded"


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEW_ONLY])
def test_roles_without_capture_cannot_capture_or_cancel(acme, authorised, role):
    client = role_in_test_mode(acme, role)

    assert client.post(detail_url(authorised.stripe_id, "capture"), {}).status_code == 403
    assert client.post(detail_url(authorised.stripe_id, "cancel"), {}).status_code == 403
    assert intent_of(acme, authorised).status == "requires_capture"


def test_support_can_capture(acme, authorised):
    support = role_in_test_mode(acme, Role.SUPPORT)

    assert support.post(detail_url(authorised.stripe_id, "capture"), {}).status_code == 302
    assert intent_of(acme, authorised).status == "succeeded"


def test_actions_refuse_get(owner, acme, paid):
    assert owner.get(detail_url(paid.stripe_id, "refund")).status_code == 405


def test_the_detail_stays_under_a_query_ceiling(
    owner, acme, paid, owner_user, django_assert_max_num_queries
):
    for amount in (100, 200, 300):
        services.payment_refund(
            account=acme,
            livemode=False,
            charge=charge_of(acme, paid),
            amount=amount,
            actor=owner_user,
        )
    webhooks_arrive()
    owner.get(detail_url(paid.stripe_id))

    # The shell costs 12; the payment, its method, refunds, disputes, balance transaction
    # and events are read in a fixed number, whatever the number of refunds or events.
    with django_assert_max_num_queries(19):
        response = owner.get(detail_url(paid.stripe_id))

    assert response.content.decode().count('<td class="mono">re_') == 3


def test_the_detail_lists_related_refunds_and_disputes(owner, acme):
    mirror_charge(acme, "ch_d", amount_refunded=400)
    store(acme, "refund", so.refund(id="re_d", charge="ch_d", amount=400))
    store(acme, "dispute", so.dispute(id="dp_d", charge="ch_d", amount=600))
    mirror_charge(acme, "ch_other", created=5)
    store(acme, "refund", so.refund(id="re_other", charge="ch_other"))

    body = owner.get(detail_url("ch_d")).content.decode()

    refunds = body.split('data-testid="refunds"')[1].split("</section>")[0]
    disputes = body.split('data-testid="disputes"')[1].split("</section>")[0]
    assert "re_d" in refunds and "$4.00" in refunds and "re_other" not in refunds
    assert "dp_d" in disputes and "$6.00" in disputes and "needs_response" in disputes
    assert "Jun 22, 2025" in disputes  # evidence due a week after the payment
    assert 'data-status="disputed"' in body
