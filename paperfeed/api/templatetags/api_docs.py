"""``{{ text|code_spans }}``: the API reference's descriptions with `code` shown as code."""

from __future__ import annotations

from django import template

from paperfeed.lib.markdown import code_spans as _code_spans

register = template.Library()
register.filter("code_spans", _code_spans)
