"""QR codes for the terminal (segno): offer and request links that a phone's wallet can scan."""

from __future__ import annotations

import io

import segno


def terminal_qr(text: str) -> str:
    """``text`` as a regular (never micro) QR code in Unicode half blocks, two modules per character row."""
    out = io.StringIO()
    segno.make_qr(text).terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")
