"""Django's Redis cache, with one client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the
connection pool for every cache operation; building it (its response callbacks and
options) cost ~0.1 ms here, as much as the round trip to Redis on loopback, and a
signed-in page makes one (its session) and the page cache another each second. A
``redis.Redis`` is safe to share between threads (each command takes its own connection
from the pool), so each pool gets one for good.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _Client(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        # Kept on the pool itself: two threads may both build the first pool (Django does
        # not lock it), and the one that loses then takes its client with it.
        client = getattr(pool, "_paperfeed_client", None)
        if client is None:
            client = pool._paperfeed_client = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client
