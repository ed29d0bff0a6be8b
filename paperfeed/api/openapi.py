"""The OpenAPI 3.0 description of the JSON API, served at ``/api/openapi.json``.

Written by hand as data (the API is small), rendered as HTML at ``/api/docs``
and checked by schemathesis in the test suite with every check, both ways: what the
document allows the server accepts, and what it forbids the server rejects with a 400.
So each parameter says exactly what the server checks (lengths, patterns, the one-of
date/week/month), and each route declares every status it can answer.
"""

from __future__ import annotations

from django.conf import settings

from paperfeed.api.http import CATEGORY_PATTERN, MAX_PARAM_LENGTH
from paperfeed.api.pagination import CURSOR_PATTERN


def _param(name: str, description: str, schema: dict, *, where: str = "query",
           required: bool = False, example=None) -> dict:
    param = {"name": name, "in": where, "required": required or where == "path",
             "description": description, "schema": schema}
    if example is not None:
        param["example"] = example
    return param


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_STR = {"type": "string"}
# Free text: any value up to MAX_PARAM_LENGTH characters without NUL (http._check_input).
_TEXT_PARAM = {"type": "string", "maxLength": MAX_PARAM_LENGTH, "pattern": "^[^\u0000]*$"}
_YEAR = r"([1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])"
_NULLABLE_STR = {"type": "string", "nullable": True}
_INT = {"type": "integer"}
_PAPER_ID = _param("paper_id", "arXiv id (2401.01234, hep-th/9901001) or slug of a paper.",
                   {**_TEXT_PARAM, "minLength": 1}, where="path", example="2401.01234")
# date, week and month exclude each other: one exploded object parameter with at most one
# property is how OpenAPI 3.0 says so (it serialises as ?date=... or ?week=... or ?month=...).
_PERIOD = [{
    "name": "period", "in": "query", "required": False, "style": "form", "explode": True,
    "description": "At most one of `date` (papers that entered the daily feed that day), "
                   "`week` (an ISO week, 2025-W09) and `month` (2025-02). Two of them is a "
                   "400; a week 53 in a year that has none is a 404.",
    "schema": {"type": "object", "additionalProperties": False, "maxProperties": 1,
               "properties": {
                   "date": _DATE,
                   "week": {"type": "string",
                            "pattern": f"^{_YEAR}-W(0[1-9]|[1-4]\\d|5[0-3])$"},
                   "month": {"type": "string", "pattern": f"^{_YEAR}-(0[1-9]|1[0-2])$"}}},
}]
_CATEGORY = _param("category", "An arXiv category (cs.LG) or a whole archive (cs); one "
                   "this site does not know is a 404.",
                   {"type": "string", "pattern": CATEGORY_PATTERN})
_LIST_FILTERS = [
    *_PERIOD, _CATEGORY,
    _param("published_from", "Published on or after this day.", _DATE),
    _param("published_to", "Published on or before this day.", _DATE),
    _param("submitter", "Only papers submitted by this user name.", _TEXT_PARAM),
    _param("sort", "newest (publication day) or upvotes.",
           {"type": "string", "enum": ["newest", "upvotes"], "default": "newest"}),
    _param("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    _param("cursor", "next_cursor from the previous page (any well-formed cursor is a "
           "position in the list).", {"type": "string", "pattern": CURSOR_PATTERN}),
]
_SEARCH = [
    _param("q", "Words to search for (or an arXiv id or URL, which finds that paper).",
           {**_TEXT_PARAM, "pattern": "^[^\u0000]*[^\u0000\\s][^\u0000]*$"}, required=True,
           example="diffusion"),
    _param("mode", "How to match.", {"type": "string", "enum": ["hybrid", "keyword", "semantic"],
                                     "default": "hybrid"}),
    _CATEGORY,
    _param("author", "Only papers with an author of this name.", _TEXT_PARAM),
    _param("from", "Published on or after this day.", _DATE),
    _param("to", "Published on or before this day.", _DATE),
    _param("sort", "relevance (best match first) or newest.",
           {"type": "string", "enum": ["relevance", "newest"], "default": "relevance"}),
    _param("limit", "How many results.", {"type": "integer", "minimum": 1, "maximum": 100,
                                          "default": 20}),
    _param("offset", "Results to skip.", {"type": "integer", "minimum": 0, "maximum": 10000,
                                          "default": 0}),
]

_HF_AUTHOR = {"type": "object", "required": ["name"],
              "properties": {"name": _STR, "hidden": {"type": "boolean"}}}
_HF_USER = {"type": "object", "properties": {"user": _STR, "name": _STR, "fullname": _STR,
                                             "type": _STR}}
_HF_ORG = {"type": "object", "properties": {"name": _STR, "fullname": _STR}}
_HF_PAPER = {
    "type": "object", "required": ["id", "authors", "title", "summary", "upvotes"],
    "properties": {
        "id": _STR, "authors": {"type": "array", "items": _HF_AUTHOR},
        "publishedAt": {"type": "string", "format": "date-time"},
        "submittedOnDailyAt": {"type": "string", "format": "date-time"},
        "title": _STR, "summary": _STR, "upvotes": _INT, "numComments": _INT,
        "submittedOnDailyBy": _HF_USER, "ai_summary": _STR,
        "ai_keywords": {"type": "array", "items": _STR},
        "githubRepo": _STR, "githubStars": _INT, "projectPage": _STR, "organization": _HF_ORG,
    },
}
_HF_ITEM = {
    "type": "object", "required": ["paper", "title", "summary", "numComments"],
    "properties": {
        "paper": _ref("HFPaper"), "publishedAt": {"type": "string", "format": "date-time"},
        "title": _STR, "summary": _STR, "numComments": _INT, "submittedBy": _HF_USER,
        "organization": _HF_ORG, "isAuthorParticipating": {"type": "boolean"},
    },
}
_PAPER = {
    "type": "object",
    "required": ["id", "title", "abstract", "authors", "categories", "upvotes", "url"],
    "properties": {
        "id": _STR, "arxiv_id": _NULLABLE_STR, "title": _STR, "abstract": _STR,
        "authors": {"type": "array", "items": _STR},
        "author_count": {"type": "integer", "nullable": True},
        "categories": {"type": "array", "items": _STR}, "primary_category": _NULLABLE_STR,
        "published_on": {**_DATE, "nullable": True}, "updated_on": {**_DATE, "nullable": True},
        "feed_date": {**_DATE, "nullable": True}, "upvotes": _INT, "comments": _INT,
        "url": _STR, "arxiv_url": _NULLABLE_STR, "pdf_url": _NULLABLE_STR,
        "code_url": _NULLABLE_STR, "github_stars": {"type": "integer", "nullable": True},
        "project_url": _NULLABLE_STR, "organization": _NULLABLE_STR,
        "submitted_by": _NULLABLE_STR, "ai_summary": _NULLABLE_STR,
        "ai_keywords": {"type": "array", "items": _STR}, "bibtex_url": _STR, "ris_url": _STR,
        "journal_ref": _NULLABLE_STR, "doi": _NULLABLE_STR, "arxiv_comments": _NULLABLE_STR,
        "license": _NULLABLE_STR,
        "versions": {"type": "array", "items": {"type": "object", "properties": {
            "version": _INT, "size": _NULLABLE_STR,
            "submitted_at": {"type": "string", "format": "date-time", "nullable": True}}}},
    },
}
_ERROR = {"type": "object", "required": ["error", "status"],
          "properties": {"error": _STR, "status": _INT}}
_TEXT = {"type": "string"}


def _get(summary: str, description: str, parameters: list, ok: dict, *, tag: str,
         errors: dict | None = None, security: list | None = None) -> dict:
    responses = {"200": ok, **_ERRORS, **(errors or {})}
    # A path names something that may not exist; a period or category may name a week or
    # a category that does not.
    if any(p["in"] == "path" or p["name"] in ("period", "category") for p in parameters):
        responses.setdefault("404", _json(_ref("Error"), "No such paper, member, week or "
                                                         "category (the message says which)."))
    operation = {"summary": summary, "description": description, "tags": [tag],
                 "parameters": parameters, "responses": responses}
    if security is not None:
        operation["security"] = security
    return {"get": operation}


_UNAUTHORIZED = {"401": _json(_ref("Error"), "No or an invalid API token.")}
_SIGNED_IN = [{"token": []}]
_VOTE = {"type": "object", "required": ["paper", "voted", "changed", "upvotes"], "properties": {
    "paper": _STR, "voted": {"type": "boolean"}, "changed": {"type": "boolean"},
    "upvotes": _INT}}
_USERNAME = _param("username", "A member's user name.", {**_TEXT_PARAM, "minLength": 1},
                   where="path", example="alice")
_UPVOTE_PAGE = [_param("cursor", "next_cursor from the previous page.",
                       {"type": "string", "pattern": r"^\d{1,18}$"})]
_EXPORT_LIMIT = _param("limit", "How many (the latest votes).",
                       {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000})
_NO_MEMBER = {"404": _json(_ref("Error"), "No such member.")}


def _action(summary: str, description: str, ok: dict, *, errors: dict,
            ok_status: str = "200", parameters: list | None = None, body: dict | None = None) -> dict:
    """An operation that acts for an API token's user."""
    operation = {"summary": summary, "description": description, "tags": ["Members"],
                 "security": _SIGNED_IN, "parameters": parameters or [],
                 "responses": {ok_status: ok, "400": {"$ref": "#/components/responses/BadRequest"},
                               **_UNAUTHORIZED, **errors}}
    if body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
    return operation


def _vote_path() -> dict:
    refused = {"403": _json(_ref("Error"), "The member has not confirmed an e-mail address yet."),
               "429": {"$ref": "#/components/responses/TooManyRequests"}, **_NOT_FOUND}
    state = _json(_ref("Vote"), "The member's vote and the paper's upvotes now.")
    return {
        "get": _action("My vote on a paper", "Whether the token's user has upvoted the paper.",
                       state, errors=_NOT_FOUND, parameters=[_PAPER_ID]),
        "put": _action("Upvote a paper", "Idempotent: upvoting twice counts once "
                       "(`changed` says whether this call changed anything).",
                       state, errors=refused, parameters=[_PAPER_ID]),
        "delete": _action("Take an upvote back", "Idempotent, like PUT.", state, errors=refused,
                          parameters=[_PAPER_ID]),
    }


# Months 01-12; four-digit numbers up to 1412, five from 1501 (lib.arxiv_ids).
_ARXIV_ID_PATTERN = (r"^(arXiv:)?((0\d|1[0-4])(0[1-9]|1[0-2])\.\d{4}|(1[5-9]|[2-9]\d)(0[1-9]|1[0-2])"
                     r"\.\d{5}|[a-z]+(-[a-z]+)?/\d{2}(0[1-9]|1[0-2])\d{3})(v\d{1,3})?$")


def _submit_path() -> dict:
    body = {"type": "object", "required": ["arxiv_id"], "properties": {
        "arxiv_id": {"type": "string", "description": "2401.12345, arXiv:2401.12345v2, an "
                     "arXiv URL or hep-th/9901001 (the pattern gives the plain forms; URLs "
                     "are accepted too).", "example": "2401.12345",
                     "pattern": _ARXIV_ID_PATTERN},
        "comment": {"type": "string", "maxLength": 10_000, "pattern": "^[^\u0000]*$",
                    "description": "Why it is worth reading (Markdown; no NUL)."}}}
    errors = {
        "400": {"$ref": "#/components/responses/BadRequest"},
        "403": _json(_ref("Error"), "The member has not confirmed an e-mail address yet."),
        "409": _json(_ref("Error"), "The paper was already submitted, is already in the feed, "
                                    "or was taken down."),
        "413": _json(_ref("Error"), "The body is too large."),
        "422": _json(_ref("Error"), "arXiv does not know the id, or the paper is too old."),
        "429": {"$ref": "#/components/responses/TooManyRequests"},
        "503": _json(_ref("Error"), "arXiv could not be reached; nothing was saved."),
    }
    return {"post": _action(
        "Submit a paper", "Puts an arXiv paper in today's daily feed for the token's user, "
        "under the same rules as the submit page. Answers 201 with the paper.",
        _json(_ref("Paper"), "The submitted paper."), errors=errors, ok_status="201", body=body)}


def _text(content_type: str, description: str) -> dict:
    return {"description": description, "content": {content_type: {"schema": _TEXT}}}


def document() -> dict:
    bib = "application/x-bibtex"
    ris = "application/x-research-info-systems"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{settings.SITE_NAME} API",
            "version": "1",
            "description": (
                "Open access to the paper feed. `/api/daily_papers`, `/api/papers/{id}` and "
                "`/api/papers/search` answer like Hugging Face's, so `huggingface_hub` and other "
                "HF clients work unchanged; `/api/v1/...` is paperfeed's own, richer API. "
                "Errors are JSON `{\"error\": message, \"status\": code}`. Anonymous clients are "
                "rate-limited (429 with `Retry-After`); every 200 carries an `ETag` for cheap "
                "revalidation with `If-None-Match`. Members vote and submit papers with an API token "
                "(`Authorization: Bearer pf_...`, made with `paperfeed apitoken USER`)."),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "Hugging Face-compatible"}, {"name": "paperfeed v1"},
                 {"name": "Members"}, {"name": "Exports"}],
        "paths": {
            "/api/daily_papers": _get(
                "Daily papers", "Papers of the daily feed, newest day first (or trending). "
                "The `Link` header points at the next page.",
                [*_PERIOD,
                 _param("p", "Page number, from 0.", {"type": "integer", "minimum": 0,
                                                      "maximum": 100000, "default": 0}),
                 _param("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 100,
                                                "default": 50}),
                 _param("submitter", "User name of the submitter.", _TEXT_PARAM),
                 _param("sort", "publishedAt or trending.",
                        {"type": "string", "enum": ["publishedAt", "trending"]})],
                _json({"type": "array", "items": _ref("HFDailyItem")}, "Daily papers."),
                tag="Hugging Face-compatible"),
            "/api/papers/search": _get(
                "Search papers", "Best match first, in the daily-papers item shape.",
                [_param("q", "Words to search for, or an arXiv id or URL.", _TEXT_PARAM),
                 _param("limit", "How many.", {"type": "integer", "minimum": 1, "maximum": 100,
                                              "default": 50})],
                _json({"type": "array", "items": _ref("HFDailyItem")}, "Matching papers."),
                tag="Hugging Face-compatible"),
            "/api/papers/{paper_id}": _get(
                "One paper", "A paper as Hugging Face's paper API returns it.", [_PAPER_ID],
                _json(_ref("HFPaper"), "The paper."), tag="Hugging Face-compatible",
                errors=_NOT_FOUND),
            "/papers/{paper_id}.md": _get(
                "A paper as Markdown", "What `HfApi.read_paper` reads.", [_PAPER_ID],
                _text("text/markdown", "Markdown."), tag="Hugging Face-compatible",
                errors=_NOT_FOUND),
            "/api/v1/papers": _get(
                "List papers", "Filtered papers with cursor pagination (`next`, `Link`).",
                _LIST_FILTERS,
                _json({"type": "object", "required": ["results", "next", "next_cursor"],
                       "properties": {"results": {"type": "array", "items": _ref("Paper")},
                                      "next": _NULLABLE_STR, "next_cursor": _NULLABLE_STR}},
                      "A page of papers."), tag="paperfeed v1"),
            "/api/v1/papers/{paper_id}": _get(
                "One paper", "Everything known about a paper, with its versions.", [_PAPER_ID],
                _json(_ref("Paper"), "The paper."), tag="paperfeed v1", errors=_NOT_FOUND),
            "/api/v1/papers/{paper_id}/related": _get(
                "Related papers", "Papers like this one, most related first.",
                [_PAPER_ID, _param("limit", "How many.", {"type": "integer", "minimum": 1,
                                                          "maximum": 50, "default": 10})],
                _json({"type": "object", "properties": {
                    "paper": _STR, "results": {"type": "array", "items": _ref("Paper")}}},
                    "Related papers."), tag="paperfeed v1", errors=_NOT_FOUND),
            "/api/v1/search": _get(
                "Search", "Keyword, semantic or hybrid search with filters.", _SEARCH,
                _json({"type": "object", "required": ["query", "total", "results"], "properties": {
                    "query": _STR, "mode": _STR, "total": _INT, "offset": _INT, "limit": _INT,
                    "engine": _STR, "message": _NULLABLE_STR,
                    "results": {"type": "array", "items": {"type": "object", "properties": {
                        "score": {"type": "number"}, "paper": _ref("Paper")}}}}},
                    "Search results."), tag="paperfeed v1"),
            "/api/v1/categories": _get(
                "Categories", "arXiv categories with their number of papers here.",
                [_param("with_papers", "Only categories that have papers (1/true).",
                        _TEXT_PARAM)],
                _json({"type": "array", "items": {"type": "object", "properties": {
                    "code": _STR, "name": _STR, "archive": _STR, "active": {"type": "boolean"},
                    "papers": _INT}}}, "Categories."), tag="paperfeed v1"),
            "/api/v1/me": {"get": {
                "summary": "Who am I", "tags": ["paperfeed v1"],
                "description": "The user an API token acts for.",
                "security": [{"token": []}],
                "responses": {
                    "200": _json({"type": "object", "properties": {
                        "username": _STR, "token": _STR, "token_name": _STR}}, "The user."),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "401": _json(_ref("Error"), "No or an invalid token.")}}},
            "/api/v1/papers/{paper_id}/vote": _vote_path(),
            "/api/v1/submissions": _submit_path(),
            "/api/v1/users/{username}/upvotes": _get(
                "A member's upvotes", "Papers the member upvoted, latest vote first (public, "
                "as on the profile page), with cursor pagination (`next`, `Link`).",
                [_USERNAME, *_UPVOTE_PAGE,
                 _param("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 100,
                                                "default": 20})],
                _json({"type": "object", "required": ["results", "next", "next_cursor"],
                       "properties": {"username": _STR,
                                      "results": {"type": "array", "items": _ref("Paper")},
                                      "next": _NULLABLE_STR, "next_cursor": _NULLABLE_STR}},
                      "A page of upvoted papers."), tag="Members", errors=_NO_MEMBER),
            "/api/v1/users/{username}/upvotes.bib": _get(
                "BibTeX of a member's upvotes", "Latest vote first.",
                [_USERNAME, *_UPVOTE_PAGE, _EXPORT_LIMIT], _text(bib, "BibTeX."), tag="Exports",
                errors=_NO_MEMBER),
            "/api/v1/users/{username}/upvotes.ris": _get(
                "RIS of a member's upvotes", "Latest vote first.",
                [_USERNAME, *_UPVOTE_PAGE, _EXPORT_LIMIT], _text(ris, "RIS."), tag="Exports",
                errors=_NO_MEMBER),
            "/papers/{paper_id}.bib": _get(
                "BibTeX of a paper", "An arXiv-style @misc entry.", [_PAPER_ID],
                _text(bib, "BibTeX."), tag="Exports", errors=_NOT_FOUND),
            "/papers/{paper_id}.ris": _get(
                "RIS of a paper", "For Zotero, EndNote, Mendeley.", [_PAPER_ID],
                _text(ris, "RIS."), tag="Exports", errors=_NOT_FOUND),
            "/api/v1/papers.bib": _get("BibTeX of a list", "Same filters as /api/v1/papers.",
                                       _LIST_FILTERS, _text(bib, "BibTeX."), tag="Exports"),
            "/api/v1/papers.ris": _get("RIS of a list", "Same filters as /api/v1/papers.",
                                       _LIST_FILTERS, _text(ris, "RIS."), tag="Exports"),
            "/api/v1/search.bib": _get("BibTeX of a search", "Same parameters as /api/v1/search.",
                                       _SEARCH, _text(bib, "BibTeX."), tag="Exports"),
            "/api/v1/search.ris": _get("RIS of a search", "Same parameters as /api/v1/search.",
                                       _SEARCH, _text(ris, "RIS."), tag="Exports"),
        },
        "components": {
            "schemas": {"HFPaper": _HF_PAPER, "HFDailyItem": _HF_ITEM, "Paper": _PAPER,
                        "Vote": _VOTE, "Error": _ERROR},
            "responses": {
                "BadRequest": _json(_ref("Error"), "A parameter is not valid."),
                "NotFound": _json(_ref("Error"), "No such paper."),
                "TooManyRequests": {
                    "description": "Rate limit reached; retry after `Retry-After` seconds.",
                    "headers": {"Retry-After": {"schema": _INT}},
                    "content": {"application/json": {"schema": _ref("Error")}}},
            },
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "An API token: `paperfeed apitoken USER`."}},
        },
    }
