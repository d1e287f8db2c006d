import pytest
from django_scopes import scope

from dashboard.models import Membership, Pin, RecentPage

pytestmark = pytest.mark.django_db


def test_it_redirects_anonymous_visitors_to_sign_in(client, acme):
    response = client.get("/a/acme/")
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=/a/acme/")


def test_it_sends_a_signed_in_user_to_their_first_account(owner):
    response = owner.get("/")
    assert response.status_code == 302
    assert response.url == "/a/acme/"


def test_it_signs_in_with_email_and_password(client, owner_user):
    response = client.post(
        "/login/", {"username": "owner@acme.test", "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    assert client.get("/a/acme/").status_code == 200


def test_it_refuses_a_wrong_password(client, owner_user):
    response = client.post("/login/", {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"enter a correct email" in response.content.lower()


def test_home_shows_an_honest_empty_state(owner):
    response = owner.get("/a/acme/")
    assert b"No activity yet" in response.content


def test_the_switcher_lists_only_my_accounts(owner, owner_user, acme, globex, outsider_user):
    response = owner.get("/a/acme/")
    assert b"Acme Platform" in response.content
    assert b"Globex Store" not in response.content


def test_test_mode_toggle_shows_the_banner_and_is_remembered(owner, owner_user, acme):
    assert b'data-testid="test-mode-banner"' not in owner.get("/a/acme/").content
    owner.post("/a/acme/mode/", {"test_mode": "1", "next": "/a/acme/payments/"})
    assert b'data-testid="test-mode-banner"' in owner.get("/a/acme/").content
    with scope(account=acme):
        assert Membership.objects.get(user=owner_user).test_mode is True


def test_mode_toggle_does_not_redirect_off_site(owner):
    response = owner.post("/a/acme/mode/", {"test_mode": "1", "next": "https://evil.example/"})
    assert response.url == "/a/acme/"


def test_pinning_a_page_puts_it_under_shortcuts(owner, owner_user, acme):
    response = owner.post(
        "/a/acme/shortcuts/pin/", {"path": "/a/acme/payments/", "title": "Transactions"}
    )
    assert response.status_code == 302
    page = owner.get("/a/acme/").content.decode()
    assert 'class="shortcut pinned" title="Pinned">' in page
    assert "Transactions</a>" in page.split('class="shortcut pinned"')[1]
    owner.post("/a/acme/shortcuts/pin/", {"path": "/a/acme/payments/", "title": "Transactions"})
    with scope(account=acme):
        assert not Pin.objects.filter(user=owner_user).exists()


def test_it_refuses_to_pin_another_tenants_page(owner, owner_user, acme):
    owner.post("/a/acme/shortcuts/pin/", {"path": "/a/globex/payments/", "title": "x"})
    with scope(account=acme):
        assert not Pin.objects.exists()


def test_visited_pages_appear_as_recent(owner, owner_user, acme):
    owner.get("/a/acme/customers/")
    with scope(account=acme):
        assert list(RecentPage.objects.values_list("title", flat=True)) == ["Customers"]
