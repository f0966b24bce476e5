"""OpenID4VP responses (§8.1, §8.2): the ``vp_token`` keyed by DCQL query id, posted with ``direct_post``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from shared.encoding import json_dumps, json_loads
from shared.errors import InvalidResponseError, MalformedError
from shared.jose import PrivateKey
from shared.sdjwt.present import create_presentation
from shared.sdjwt.process import ClaimPath

MAX_RESPONSE_SIZE = 512 * 1024


class VpResponse(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An authorization response: ``vp_token`` (query id → presentations), or an ``error`` (§8.5)."""

    vp_token: dict[str, list[str]] | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object a wallet writes to a file (``vp_token`` as an object)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def to_form(self) -> dict[str, str]:
        """The ``application/x-www-form-urlencoded`` fields of a ``direct_post`` (§8.2)."""
        form = {k: v for k, v in self.to_json().items() if k != "vp_token"}
        if self.vp_token is not None:
            form["vp_token"] = json_dumps(self.vp_token).decode()
        return form


def parse_response(data: Mapping[str, Any] | bytes | str) -> VpResponse:
    """Read a response from a posted form (``vp_token`` a JSON string) or a JSON file (an object).

    Old-draft shapes are refused: ``vp_token`` as a string or array, ``presentation_submission`` (P15).
    """
    if isinstance(data, bytes | str):
        raw = data.encode() if isinstance(data, str) else data
        if len(raw) > MAX_RESPONSE_SIZE:
            raise InvalidResponseError("the response is too large", reason="too_large")
        try:
            data = json_loads(raw, what="VP response")
        except MalformedError as exc:
            raise InvalidResponseError(exc.message, reason="bad_json") from exc
    if not isinstance(data, Mapping):
        raise InvalidResponseError("the response must be a JSON object", reason="bad_response")
    if "presentation_submission" in data:
        raise InvalidResponseError("presentation_submission is from an old draft", reason="legacy_response")
    fields = dict(data)
    token = fields.get("vp_token")
    if isinstance(token, str) and token.lstrip().startswith("{"):  # form-encoded: a JSON-serialized object
        try:
            fields["vp_token"] = token = json_loads(token.encode(), what="vp_token")
        except MalformedError as exc:
            raise InvalidResponseError(exc.message, reason="bad_vp_token") from exc
    if token is None and not isinstance(fields.get("error"), str):
        raise InvalidResponseError("the response has neither vp_token nor error", reason="missing_vp_token")
    if token is not None and not isinstance(token, dict):
        raise InvalidResponseError(
            "vp_token must be a JSON object keyed by query id", reason="vp_token_not_object"
        )
    try:
        return msgspec.convert(fields, VpResponse)
    except msgspec.ValidationError as exc:
        raise InvalidResponseError(f"the response is malformed: {exc}", reason="bad_vp_token") from exc


def presentation_for(
    sd_jwt: str,
    paths: Iterable[ClaimPath],
    key: PrivateKey,
    *,
    client_id: str,
    nonce: str,
    issued_at: int,
) -> str:
    """One presentation for a ``vp_token``: only ``paths`` disclosed, KB-JWT bound to the client id and nonce
    (§B.3.6: ``aud`` is the full client identifier, prefix included)."""
    return create_presentation(
        sd_jwt, paths, holder_key=key, audience=client_id, nonce=nonce, issued_at=issued_at
    )
