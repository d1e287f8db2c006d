from __future__ import annotations

import pytest

# The sandbox fixtures of the payments tests: an account connected to the sandbox.
from tests.payments.sandbox_support import connected, sandbox_settings, stripe  # noqa: F401


@pytest.fixture(autouse=True)
def export_storage(settings, tmp_path):
    """Each test writes its files (work files and stored exports) under its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PAYDESK_EXPORT_WORK_DIR = tmp_path / "work"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    yield tmp_path


@pytest.fixture
def eager(settings):
    """Celery tasks run in the test's process, at once, when enqueued."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from paydesk.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
