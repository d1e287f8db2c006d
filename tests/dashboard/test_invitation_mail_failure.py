import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django_scopes import scope

from dashboard.models import Invitation

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def test_an_invitation_survives_a_mail_server_that_refuses(owner, acme, settings):
    settings.EMAIL_BACKEND = "tests.dashboard.test_invitation_mail_failure.RefusingBackend"

    response = owner.post(
        "/a/acme/settings/team/invite/", {"email": "new@acme.test", "role": "analyst"}, follow=True
    )

    assert response.status_code == 200
    assert b"could not be sent" in response.content
    with scope(account=acme):
        assert Invitation.objects.get(email="new@acme.test").is_pending


def test_inviting_again_after_a_failure_sends_a_new_link(owner, acme, settings):
    settings.EMAIL_BACKEND = "tests.dashboard.test_invitation_mail_failure.RefusingBackend"
    owner.post("/a/acme/settings/team/invite/", {"email": "new@acme.test", "role": "analyst"})
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    owner.post("/a/acme/settings/team/invite/", {"email": "new@acme.test", "role": "analyst"})

    assert len(mail.outbox) == 1
    with scope(account=acme):
        assert Invitation.objects.filter(email="new@acme.test", revoked_at=None).count() == 1
