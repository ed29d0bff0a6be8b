"""System checks for the deployment settings (shown by `paperfeed check`, migrate and serve)."""

from __future__ import annotations

import os

from django.core.checks import Warning, register


@register("deploy-settings")
def deprecated_proxy_setting(app_configs=None, **kwargs) -> list[Warning]:
    if os.environ.get("PAPERFEED_API_TRUSTED_PROXY") is None:
        return []
    return [Warning(
        "PAPERFEED_API_TRUSTED_PROXY is deprecated and will be removed.",
        hint="Set PAPERFEED_PROXY_COUNT to the number of reverse proxies in front "
             "(1 for one nginx); it now decides the client address for every rate limit, "
             "the logs and HTTPS detection. Without PAPERFEED_PROXY_COUNT, "
             "PAPERFEED_API_TRUSTED_PROXY=true counts as PAPERFEED_PROXY_COUNT=1.",
        id="paperfeed.W001",
    )]


@register("deploy-settings")
def replica_pin_covers_the_lag_bound(app_configs=None, **kwargs) -> list[Warning]:
    """A visitor pinned for PIN seconds after a write then reads a replica at most
    MAX_LAG (+ the one second a check is trusted) behind: the write is there only if
    PIN covers both (paperfeed/replicas.py)."""
    from django.conf import settings

    from paperfeed.replicas import CHECK_SECONDS

    if not getattr(settings, "DATABASE_REPLICAS", None):
        return []
    pin, bound = settings.REPLICA_PIN_SECONDS, settings.REPLICA_MAX_LAG
    if bound and pin >= bound + CHECK_SECONDS:
        return []
    return [Warning(
        f"PAPERFEED_REPLICA_PIN_SECONDS={pin:g} does not cover PAPERFEED_REPLICA_MAX_LAG="
        f"{bound:g}: a member may not see their own vote or comment once the pin runs out.",
        hint=f"Set PAPERFEED_REPLICA_PIN_SECONDS to at least PAPERFEED_REPLICA_MAX_LAG + "
             f"{CHECK_SECONDS:g}, and PAPERFEED_REPLICA_MAX_LAG above 0.",
        id="paperfeed.W002",
    )]
