from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.fixture(scope="package", autouse=True)
def _fast_password_hashing(django_db_setup):
    """Real hashing costs ~0.3 s a user; tests make dozens. Production hashing is checked
    in test_security (it runs the real settings in a subprocess)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
