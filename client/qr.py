"""QR codes: offer and request links drawn in the terminal (segno) and read back from images (zxing-cpp)."""

from __future__ import annotations

import io
from pathlib import Path

import segno


def terminal_qr(text: str) -> str:
    """``text`` as a regular (never micro) QR code in Unicode half blocks, two modules per character row."""
    out = io.StringIO()
    segno.make_qr(text).terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")


class NoQrCodeError(Exception):
    """The image holds no readable QR code."""


IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF")
"""PNG, JPEG, GIF, BMP and WebP files start with these bytes."""


def is_image(path: Path) -> bool:
    """True when the file starts like a PNG, JPEG, GIF, BMP or WebP image."""
    with path.open("rb") as file:
        head = file.read(8)
    return head.startswith(IMAGE_MAGIC)


def read_qr_image(path: Path) -> str:
    """The text of the QR code in an image file (zxing-cpp reads the image that Pillow opens)."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            found = zxingcpp.read_barcodes(image)
    except (UnidentifiedImageError, OSError) as exc:
        raise NoQrCodeError(f"{path} is not an image that can be read: {exc}") from exc
    texts = [b.text for b in found if b.valid and b.text and b.format == zxingcpp.BarcodeFormat.QRCode]
    if not texts:
        raise NoQrCodeError(f"no QR code found in {path}")
    return texts[0]
