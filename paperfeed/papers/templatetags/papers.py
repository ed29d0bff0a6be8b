from django import template

from paperfeed.lib.text import web_url

register = template.Library()
register.filter("web_url", web_url)
