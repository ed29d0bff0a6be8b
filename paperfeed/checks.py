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
