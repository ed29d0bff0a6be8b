import os
import socket
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from paperfeed import conf


def test_values_parse_by_type_and_fall_back_to_defaults():
    assert conf.value("PAPERFEED_PAGE_SIZE", {}) == 50
    assert conf.value("PAPERFEED_PAGE_SIZE", {"PAPERFEED_PAGE_SIZE": " 20 "}) == 20
    assert conf.value("PAPERFEED_DEBUG", {"PAPERFEED_DEBUG": "yes"}) is True
    assert conf.value("PAPERFEED_ALLOWED_HOSTS", {"PAPERFEED_ALLOWED_HOSTS": "a.org, b.org,"}) == ["a.org", "b.org"]
    assert conf.value("DATABASE_URL", {}) is None


def test_a_bad_value_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="PAPERFEED_PAGE_SIZE='many' is not a valid integer"):
        conf.value("PAPERFEED_PAGE_SIZE", {"PAPERFEED_PAGE_SIZE": "many"})
    with pytest.raises(ImproperlyConfigured, match="PAPERFEED_DEBUG"):
        conf.value("PAPERFEED_DEBUG", {"PAPERFEED_DEBUG": "maybe"})
    assert conf.value("PAPERFEED_PAGE_CACHE_LOCAL_MB", {}) == 128
    for bad in ("-1", "lots", "1.5", ""):
        with pytest.raises(ImproperlyConfigured, match="PAPERFEED_PAGE_CACHE_LOCAL_MB"):
            conf.value("PAPERFEED_PAGE_CACHE_LOCAL_MB", {"PAPERFEED_PAGE_CACHE_LOCAL_MB": bad})


def test_secrets_can_come_from_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    assert conf.value("PAPERFEED_SECRET_KEY", {"PAPERFEED_SECRET_KEY_FILE": str(secret)}) == "s3cret"
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        conf.value("PAPERFEED_SECRET_KEY", {"PAPERFEED_SECRET_KEY_FILE": str(tmp_path / "missing")})


def _settings_in(tmp_path, **env):
    code = "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    environ.update(PAPERFEED_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="paperfeed.settings", **env)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)


def test_without_a_configured_key_one_is_generated_once_and_kept_private(tmp_path):
    first = _settings_in(tmp_path).stdout.strip()
    second = _settings_in(tmp_path).stdout.strip()
    assert first == second and len(first) >= 50
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o077 == 0
    configured = _settings_in(tmp_path, PAPERFEED_SECRET_KEY="from-env").stdout.strip()
    assert configured == "from-env"


def _proxy_settings(tmp_path, **env):
    code = ("import django; from django.conf import settings; django.setup(); "
            "print(settings.PROXY_COUNT, getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    environ.update(PAPERFEED_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="paperfeed.settings", **env)
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)


def test_the_proxy_count_decides_whether_forwarded_proto_is_trusted(tmp_path):
    assert _proxy_settings(tmp_path, PAPERFEED_HTTPS="true").stdout.split() == ["0", "None"]
    behind = _proxy_settings(tmp_path, PAPERFEED_HTTPS="true", PAPERFEED_PROXY_COUNT="1")
    assert behind.stdout.strip() == "1 ('HTTP_X_FORWARDED_PROTO', 'https')"
    negative = _proxy_settings(tmp_path, PAPERFEED_PROXY_COUNT="-1")
    assert negative.returncode != 0 and "PAPERFEED_PROXY_COUNT=-1 must be 0 or more" in negative.stderr


def test_the_old_api_trusted_proxy_still_means_one_proxy_and_warns(tmp_path):
    assert _proxy_settings(tmp_path, PAPERFEED_API_TRUSTED_PROXY="true").stdout.startswith("1 ")
    # The new name wins when both are set.
    both = _proxy_settings(tmp_path, PAPERFEED_API_TRUSTED_PROXY="true", PAPERFEED_PROXY_COUNT="0")
    assert both.stdout.startswith("0 ")
    from paperfeed.checks import deprecated_proxy_setting

    os.environ["PAPERFEED_API_TRUSTED_PROXY"] = "true"
    try:
        [warning] = deprecated_proxy_setting()
    finally:
        del os.environ["PAPERFEED_API_TRUSTED_PROXY"]
    assert warning.id == "paperfeed.W001" and "PAPERFEED_PROXY_COUNT" in warning.hint
    assert deprecated_proxy_setting() == []


def test_with_a_shared_cache_sessions_are_read_from_it_and_kept_in_the_database(tmp_path):
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    code = (
        "import django; from django.conf import settings; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from django.core.cache import cache; from importlib import import_module\n"
        "store = import_module(settings.SESSION_ENGINE).SessionStore\n"
        "s = store(); s['member'] = 42; s.save()\n"
        "cached = cache.get(s.cache_key) is not None\n"
        "cache.delete(s.cache_key)  # a flushed cache: the database still has it\n"
        "print(settings.SESSION_ENGINE, cached, store(s.session_key).get('member'))\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFEED_", "DATABASE_URL"))}
    environ.update(PAPERFEED_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="paperfeed.settings",
                   PAPERFEED_CACHE_URL="redis://127.0.0.1:6379/13")
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["django.contrib.sessions.backends.cached_db", "True", "42"]
    del environ["PAPERFEED_CACHE_URL"]
    plain = subprocess.run([sys.executable, "-c", "import django; from django.conf import settings; "
                            "django.setup(); print(settings.SESSION_ENGINE)"],
                           env=environ, capture_output=True, text=True, check=True)
    assert plain.stdout.strip() == "django.contrib.sessions.backends.db"


def test_the_redis_cache_shares_one_client_per_pool_across_threads():
    """paperfeed/rediscache.py against the real Redis: Django's cache operations, from
    threads at once, through one redis.Redis per connection pool."""
    import threading
    import uuid

    from django.core.cache import caches
    from django.test import override_settings

    from paperfeed.rediscache import RedisCache

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"paperfeed-test-{uuid.uuid4().hex}"
    config = {"default": {"BACKEND": "paperfeed.rediscache.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/12", "KEY_PREFIX": prefix}}
    with override_settings(CACHES=config):
        cache = caches["default"]
        assert isinstance(cache, RedisCache)
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(50):
                    cache.set(f"k{n}-{i}", {"n": n, "i": i})
                    assert cache.get(f"k{n}-{i}") == {"n": n, "i": i}
                    if not cache.add("counter", 1):
                        cache.incr("counter")
                assert cache.get_many([f"k{n}-0", f"k{n}-49"]) == {
                    f"k{n}-0": {"n": n, "i": 0}, f"k{n}-49": {"n": n, "i": 49}}
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert cache.get("counter") == 8 * 50
        client = cache._cache.get_client()
        assert client is cache._cache.get_client(write=True) is cache._cache.get_client()
        assert client.connection_pool is cache._cache._get_connection_pool(False)
        cache.delete_many([f"k{n}-{i}" for n in range(8) for i in range(50)] + ["counter"])
