from django.apps import AppConfig


class DeployConfig(AppConfig):
    """The deployment layout: the nginx configuration and `paperfeed bench load`."""

    name = "paperfeed.deploy"
    verbose_name = "Deployment"
