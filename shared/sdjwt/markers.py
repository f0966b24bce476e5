"""The issuer's way of saying which claims are selectively disclosable (RFC 9901 §4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, eq=False)
class SD:
    """Marks an object member name or an array element as selectively disclosable.

    As a dict key it wraps the member name: ``{SD("given_name"): "An"}``; in a list it wraps the
    element: ``["VN", SD("FR")]``. It mirrors the ``!sd`` tag of the published test vectors.
    """

    value: Any


def sd(value: Any) -> SD:
    """Shorthand for ``SD(value)``."""
    return SD(value)
