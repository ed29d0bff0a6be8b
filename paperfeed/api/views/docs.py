"""The OpenAPI document and its self-hosted HTML rendering (no CDN: works offline)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import render

from paperfeed.api.http import api_view, json_response
from paperfeed.api.openapi import document


@api_view(rate_limited=False)
def openapi_json(request: HttpRequest):
    return json_response(document())


def _schema_text(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    text = schema.get("type", "")
    if schema.get("type") == "object" and "properties" in schema:
        names = " | ".join(schema["properties"])
        text += f" (at most one of {names})" if schema.get("maxProperties") == 1 else f" ({names})"
    if "pattern" in schema and schema.get("type") == "string":
        text += f", matching {schema['pattern']}"
    if "enum" in schema:
        text += " (" + " | ".join(map(str, schema["enum"])) + ")"
    if "format" in schema:
        text += f", {schema['format']}"
    if "minimum" in schema or "maximum" in schema:
        text += f", {schema.get('minimum', '')}–{schema.get('maximum', '')}"
    if "default" in schema:
        text += f", default {schema['default']}"
    return text


def _body_fields(op: dict) -> list[dict]:
    """A JSON request body's fields, shown as parameters "in" the body."""
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    required = set(schema.get("required", []))
    return [{"name": name, "in": "JSON body", "required": name in required,
             "description": field.get("description", ""), "schema": field}
            for name, field in schema.get("properties", {}).items()]


def docs(request: HttpRequest):
    spec = document()
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            operations.append({
                "anchor": (method + path).replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path, "summary": op["summary"],
                "description": op.get("description", ""), "tag": op["tags"][0],
                "parameters": [{**p, "schema_text": _schema_text(p["schema"])}
                               for p in op.get("parameters", []) + _body_fields(op)],
                "responses": [(code, r.get("description") or r.get("$ref", "").rsplit("/", 1)[-1])
                              for code, r in op["responses"].items()],
                "needs_token": bool(op.get("security")),
            })
    return render(request, "api/docs.html", {"spec": spec, "operations": operations})
