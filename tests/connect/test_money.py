"""Money movement end to end through the sandbox and the real webhook path: destination
charge → transfer → connected balance → payout; application fees; transfers and
reversals sent from the console; rejection; role refusals; other tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_scopes import scope

from connect.models import ApplicationFee, ConnectedAccount, Transfer, TransferReversal
from dashboard.models import AuditLog
from dashboard.roles import Role
from payments.models import BalanceTransaction, Charge, Payout
from sandbox import clock
from sandbox import services as sandbox_services
from tests.connect.conftest import members_in_test_mode
from tests.payments.sandbox_support import webhooks_arrive

pytestmark = pytest.mark.django_db


def destination_charge(stripe, seller, amount=10000, fee=1000, **extra):
    return stripe.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "transfer_data": {"destination": seller.stripe_id},
            "application_fee_amount": fee,
            **extra,
        }
    )


def advance(sandbox_key, days):
    account = sandbox_services.resolve_account(sandbox_key)
    sandbox_services.clock_advance(
        token_or_account=account, to=clock.now(account) + timedelta(days=days)
    )


def net_on(acme, stripe_account, **filters) -> int:
    with scope(account=acme):
        rows = BalanceTransaction.objects.filter(stripe_account=stripe_account, **filters)
        return sum(row.net for row in rows)


def test_a_destination_charge_reaches_the_sellers_balance_and_is_paid_out(
    owner, acme, seller, stripe, sandbox_key
):
    destination_charge(stripe, seller, amount=10000, fee=1000)
    webhooks_arrive()
    with scope(account=acme):
        transfer = Transfer.objects.get()
        assert (transfer.amount, transfer.destination, transfer.livemode) == (10000, seller, False)
        fee = ApplicationFee.objects.get()
        assert (fee.amount, fee.connected_account) == (1000, seller)
        payment = Charge.objects.get(stripe_account=seller.stripe_id)
        assert payment.stripe_id == transfer.destination_payment_stripe_id
    assert net_on(acme, seller.stripe_id) == 9000
    assert net_on(acme, seller.stripe_id, status="pending") == 9000
    advance(sandbox_key, days=3)
    webhooks_arrive()
    with scope(account=acme):
        payout = Payout.objects.get(stripe_account=seller.stripe_id)
    assert (payout.amount, payout.automatic) == (9000, True)
    assert net_on(acme, seller.stripe_id) == 0
    home = owner.get(f"/a/acme/connect/accounts/{seller.stripe_id}/").content.decode()
    assert payout.stripe_id in home and transfer.stripe_id in home


def test_application_fees_add_up_on_the_list_and_the_detail(owner, acme, seller, stripe):
    destination_charge(stripe, seller, amount=10000, fee=1000)
    destination_charge(stripe, seller, amount=5000, fee=250)
    webhooks_arrive()
    fee_id = stripe.v1.application_fees.list().data[0].id
    stripe.v1.application_fees.refunds.create(fee_id, params={"amount": 100})
    webhooks_arrive()
    page = owner.get("/a/acme/connect/").content.decode()
    assert "$11.50" in page  # 10.00 + 2.50 - 1.00 refunded
    detail = owner.get(f"/a/acme/connect/accounts/{seller.stripe_id}/").content.decode()
    assert "Application fees from this account: $11.50" in detail
    assert net_on(acme, seller.stripe_id) == 15000 - 1250 + 100


def test_the_owner_sends_a_transfer_and_reverses_part_of_it(
    owner, acme, seller, stripe, sandbox_key
):
    sandbox_services.automatic_payouts_set(token_or_account=sandbox_key, enabled=False)
    stripe.v1.payment_intents.create(
        params={"amount": 20000, "currency": "usd", "payment_method": "pm_card_visa",
                "payment_method_types": ["card"], "confirm": True}
    )  # fmt: skip
    advance(sandbox_key, days=3)
    webhooks_arrive()
    response = owner.post(
        f"/a/acme/connect/accounts/{seller.stripe_id}/transfers/",
        {"amount": "25.00", "description": "Bonus", "transfer_group": "order_7"},
    )
    assert response.status_code == 302
    with scope(account=acme):
        transfer = Transfer.objects.get()
        assert (transfer.amount, transfer.description) == (2500, "Bonus")
        assert transfer.transfer_group == "order_7"
        assert AuditLog.objects.filter(action="connect.transfer.created").exists()
    response = owner.post(
        f"/a/acme/connect/transfers/{transfer.stripe_id}/reverse/", {"amount": "10.00"}
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 1000 and not transfer.reversed
    webhooks_arrive()
    with scope(account=acme):
        assert TransferReversal.objects.get().amount == 1000
    assert net_on(acme, seller.stripe_id) == 1500


def test_a_transfer_beyond_the_available_balance_shows_stripes_refusal(owner, acme, seller):
    response = owner.post(
        f"/a/acme/connect/accounts/{seller.stripe_id}/transfers/", {"amount": "25.00"}, follow=True
    )
    assert "insufficient available funds" in response.content.decode()
    with scope(account=acme):
        assert not Transfer.objects.exists()


def test_the_owner_updates_the_payout_schedule(owner, acme, seller):
    response = owner.post(
        f"/a/acme/connect/accounts/{seller.stripe_id}/payout-schedule/",
        {"interval": "weekly", "weekly_anchor": "friday"},
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.payout_interval == "weekly"
    assert seller.payout_schedule["weekly_anchor"] == "friday"


@pytest.mark.parametrize("reason", ["fraud", "terms_of_service", "other"])
def test_the_owner_rejects_an_account_with_a_reason(owner, acme, seller, reason):
    response = owner.post(
        f"/a/acme/connect/accounts/{seller.stripe_id}/reject/", {"reason": reason}
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert seller.status == "rejected" and seller.disabled_reason == f"rejected.{reason}"
    page = owner.get("/a/acme/connect/?tab=rejected").content.decode()
    assert seller.stripe_id in page


def test_the_owner_creates_an_express_account(owner, acme, connected):
    response = owner.post(
        "/a/acme/connect/accounts/new/",
        {"new-type": "express", "new-country": "fr", "new-email": "vendor@example.com"},
    )
    assert response.status_code == 302
    with scope(account=acme):
        created = ConnectedAccount.objects.get()
    assert (created.country, created.email, created.status) == (
        "FR",
        "vendor@example.com",
        "restricted",
    )
    assert response.url.endswith(f"/connect/accounts/{created.stripe_id}/")


ACTIONS = [
    ("transfers/", {"amount": "5.00"}),
    ("login-links/", {}),
    ("express/", {}),
    ("reject/", {"reason": "fraud"}),
    ("payout-schedule/", {"interval": "manual"}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS)
def test_view_only_members_are_refused_and_nothing_changes(viewer, acme, seller, action, data):
    before = (seller.status, seller.payout_interval)
    response = viewer.post(f"/a/acme/connect/accounts/{seller.stripe_id}/{action}", data)
    assert response.status_code == 403
    seller.refresh_from_db()
    assert (seller.status, seller.payout_interval) == before
    with scope(account=acme):
        assert not Transfer.objects.exists()
        assert not seller.login_links.exists()


def test_view_only_members_see_no_action_buttons(viewer, seller):
    page = viewer.get(f"/a/acme/connect/accounts/{seller.stripe_id}/").content.decode()
    assert "Create login link" not in page and "Send transfer" not in page
    assert "Reject account" not in page and "Create a connected account" not in page


def test_support_can_create_login_links_but_not_transfers(member_client, acme, seller):
    support = member_client(Role.SUPPORT)
    members_in_test_mode(acme)
    base = f"/a/acme/connect/accounts/{seller.stripe_id}/"
    assert support.post(base + "login-links/").status_code == 200
    assert support.post(base + "transfers/", {"amount": "5.00"}).status_code == 403


def test_another_tenants_connected_account_is_a_404(outsider, owner, acme, globex, seller):
    assert outsider.get(f"/a/globex/connect/accounts/{seller.stripe_id}/").status_code == 404
    assert (
        outsider.post(f"/a/globex/connect/accounts/{seller.stripe_id}/login-links/").status_code
        == 404
    )
    assert outsider.get(f"/a/acme/connect/accounts/{seller.stripe_id}/").status_code == 404
    assert owner.get("/a/acme/connect/accounts/acct_doesnotexist/").status_code == 404


def test_express_settings_are_for_staff(owner, viewer, acme):
    assert viewer.get("/a/acme/connect/settings/express/").status_code == 403
    response = owner.post(
        "/a/acme/connect/settings/express/",
        {"manual_payouts_enabled": "on", "payment_description": "Sale via {platform}",
         "transfer_description": "Bonus from {platform}", "payout_description": "To your bank"},
    )  # fmt: skip
    assert response.status_code == 302
    page = owner.get("/a/acme/connect/settings/express/").content.decode()
    assert "Sale via {platform}" in page
    with scope(account=acme):
        assert AuditLog.objects.filter(action="connect.express_settings.updated").exists()
