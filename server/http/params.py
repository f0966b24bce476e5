"""Request parameters and response headers that several controllers share."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

Authorization = Annotated[str | None, HeaderParameter(name="Authorization")]
"""An operator's or wallet's ``Authorization: Bearer …`` header."""
NO_STORE = {"Cache-Control": "no-store"}
"""For answers that carry secrets or per-request state (OID4VCI §6.2, §7)."""
