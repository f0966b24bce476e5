"""The wallet's direct_post answer (OID4VP 1.0 §8.2, §8.5): a form with `vp_token` and `state`, or an error.

Only the shape is checked here (P15: `vp_token` is a JSON object of arrays of strings); the presentations
themselves are the clinic's to verify, and they are never parsed further or logged.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from server.errors import HttpError
from shared.encoding import json_dumps, json_loads
from shared.errors import MalformedError

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_STATE_LENGTH = 128
MAX_ERROR_LENGTH = 1024
_FIELDS = frozenset({"vp_token", "state", "error", "error_description"})


def parse_response(content_type: str | None, body: bytes) -> tuple[str, str]:
    """(the answer as the JSON text the clinic will receive, its `state`), or 400 ``invalid_request``."""
    if (content_type or "").split(";", 1)[0].strip().lower() != FORM_MEDIA_TYPE:
        raise HttpError(f"the response must be sent as {FORM_MEDIA_TYPE}")
    form = _form(body)
    state = form.get("state")
    if not state or len(state) > MAX_STATE_LENGTH:
        raise HttpError(f"state is required (at most {MAX_STATE_LENGTH} characters)")
    if "error" in form:
        if "vp_token" in form:
            raise HttpError("a response carries either vp_token or error, not both")
        answer = {name: _error_text(form, name) for name in ("error", "error_description") if name in form}
        return json_dumps({**answer, "state": state}).decode(), state
    if "vp_token" not in form:
        raise HttpError("vp_token (or error) is required")
    return json_dumps({"vp_token": _vp_token(form["vp_token"]), "state": state}).decode(), state


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=len(_FIELDS)
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError("the response is not a well-formed UTF-8 form") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise HttpError("a response field appears twice")
    if unknown := set(form) - _FIELDS:
        raise HttpError(f"unexpected response fields: {', '.join(sorted(unknown))[:100]}")
    return form


def _vp_token(text: str) -> dict[str, list[str]]:
    try:
        value = json_loads(text.encode(), what="vp_token")
    except MalformedError as exc:
        raise HttpError("vp_token is not valid JSON") from exc
    if not isinstance(value, dict) or not value:
        raise HttpError("vp_token must be a non-empty JSON object keyed by credential query id")
    for presentations in value.values():
        if (
            not isinstance(presentations, list)
            or not presentations
            or not all(isinstance(p, str) and p for p in presentations)
        ):
            raise HttpError("each vp_token member must be a non-empty array of presentation strings")
    return value


def _error_text(form: dict[str, str], name: str) -> str:
    """OAuth error and error_description: %x20-21 / %x23-5B / %x5D-7E only (RFC 6749 §4.1.2.1)."""
    value = form[name]
    if not value or len(value) > MAX_ERROR_LENGTH or any(not (" " <= c <= "~") or c in '"\\' for c in value):
        raise HttpError(f"{name} must be 1 to {MAX_ERROR_LENGTH} printable ASCII characters")
    return value
