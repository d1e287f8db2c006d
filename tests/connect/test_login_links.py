"""Login links and Express sessions: single use, five-minute expiry, hashed storage, and
isolation (an Express session reaches only its own account's Express pages)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_scopes import scope

from connect import services
from connect.models import ExpressSession, LoginLink
from tests.connect.conftest import express_url, open_login_link

pytestmark = pytest.mark.django_db


def create_link(owner, seller) -> str:
    response = owner.post(f"/a/acme/connect/accounts/{seller.stripe_id}/login-links/")
    assert response.status_code == 200
    return response.context["login_url"]


def test_the_owner_creates_a_login_link_that_opens_the_express_dashboard(owner, acme, seller):
    url = create_link(owner, seller)
    assert "/express/login/acme/" in url
    seller_browser = Client()
    opened = seller_browser.get(url)
    assert opened.status_code == 302 and opened.url == express_url(seller)
    page = seller_browser.get(opened.url)
    assert page.status_code == 200
    assert "Acme Platform" in page.content.decode()


def test_a_link_works_once(owner, acme, seller):
    url = create_link(owner, seller)
    assert Client().get(url).status_code == 302
    reused = Client().get(url)
    assert reused.status_code == 410
    assert "can't be used" in reused.content.decode()
    assert "paydesk_express" not in reused.cookies


def test_a_link_expires_after_five_minutes(owner, acme, seller):
    link, url = services.login_link_create(account=acme, connected_account=seller, actor=None)
    assert link.expires_at - link.created == timedelta(minutes=5)
    with scope(account=acme):
        LoginLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    response = Client().get(url)
    assert response.status_code == 410
    with scope(account=acme):
        assert not ExpressSession.objects.exists()


def test_only_the_hash_of_the_token_is_stored(owner, acme, seller):
    url = create_link(owner, seller)
    token = url.rstrip("/").rsplit("/", 1)[1]
    with scope(account=acme):
        link = LoginLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE CAST("{table}".* AS text) LIKE %s',
                [f"%{token}%"],
            )
            assert cursor.fetchone()[0] == 0, table


def test_the_session_key_is_stored_only_as_a_hash(acme, seller, express_user):
    cookie = express_user.cookies["paydesk_express"].value
    key = cookie.split(".", 1)[1]
    with scope(account=acme):
        session = ExpressSession.objects.get()
    assert session.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert express_user.cookies["paydesk_express"]["path"] == "/express/"
    assert express_user.cookies["paydesk_express"]["httponly"]


def test_an_express_session_gets_404_on_any_console_page(express_user, acme, seller):
    for path in ["/a/acme/", "/a/acme/connect/", f"/a/acme/connect/accounts/{seller.stripe_id}/",
                 "/a/acme/payments/", "/a/acme/settings/team/"]:  # fmt: skip
        assert express_user.get(path).status_code == 404, path
        assert express_user.post(path).status_code == 404, path


def test_an_express_session_gets_404_on_another_connected_accounts_pages(
    express_user, make_account
):
    other = make_account("enabled", email="other@example.com")
    for page in ["", "payouts/", "transactions/", "payments/"]:
        assert express_user.get(express_url(other, page)).status_code == 404
    assert express_user.post(express_url(other, "payouts/new/"), {"amount": "1"}).status_code == 404


def test_a_team_session_gets_nothing_from_express_without_a_link(owner, seller):
    response = owner.get(express_url(seller))
    assert response.status_code == 403
    assert "login link" in response.content.decode()
    assert seller.stripe_id not in response.content.decode()


def test_log_out_ends_the_session(express_user, acme, seller):
    response = express_user.post(express_url(seller, "logout/"))
    assert response.status_code == 200 and "logged out" in response.content.decode()
    assert express_user.get(express_url(seller)).status_code == 403
    with scope(account=acme):
        assert ExpressSession.objects.get().ended_at is not None


def test_a_stolen_cookie_is_useless_after_log_out(express_user, acme, seller):
    cookie = express_user.cookies["paydesk_express"].value
    express_user.post(express_url(seller, "logout/"))
    thief = Client()
    thief.cookies["paydesk_express"] = cookie
    assert thief.get(express_url(seller)).status_code == 403


def test_sessions_expire_when_idle(express_user, acme, seller):
    with scope(account=acme):
        ExpressSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert express_user.get(express_url(seller)).status_code == 403


def test_using_the_dashboard_keeps_the_session_alive(express_user, acme, seller):
    with scope(account=acme):
        ExpressSession.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    assert express_user.get(express_url(seller)).status_code == 200
    with scope(account=acme):
        assert ExpressSession.objects.get().expires_at > timezone.now() + timedelta(minutes=59)


def test_view_express_dashboard_creates_and_follows_a_link(owner, acme, seller):
    response = owner.post(f"/a/acme/connect/accounts/{seller.stripe_id}/express/")
    assert response.status_code == 302 and response.url.startswith("/express/login/acme/")
    assert owner.get(response.url).status_code == 302
    with scope(account=acme):
        assert LoginLink.objects.get().used_at is not None


def test_the_service_returns_the_link_and_its_url(acme, seller, owner_user):
    link, url = services.login_link_create(account=acme, connected_account=seller, actor=owner_user)
    assert link.created_by == owner_user and link.connected_account == seller
    assert url.startswith("/express/login/acme/")
    assert open_login_link(Client(), acme, seller).status_code == 302


def test_a_rejected_account_gets_no_login_link(owner, acme, make_account):
    rejected = make_account("rejected")
    response = owner.post(f"/a/acme/connect/accounts/{rejected.stripe_id}/login-links/")
    assert response.status_code == 302
    with scope(account=acme):
        assert not LoginLink.objects.exists()
