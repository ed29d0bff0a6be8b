"""Fixtures for digest tests: a real SMTP server on loopback, in this process."""

from __future__ import annotations

import pytest

from paperfeed.digests.smtpsink import LoopbackController, Recorder


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on 127.0.0.1:<free port>; Django's SMTP backend pointed at it."""
    recorder = Recorder()
    controller = LoopbackController(recorder)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    recorder.port = controller.port
    recorder.controller = controller  # for tests that stop it listening (controller.server)
    yield recorder
    controller.stop()
