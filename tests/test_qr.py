"""QR codes: what segno draws, zxing-cpp reads back; the wallet takes an offer from a photo of one."""

from __future__ import annotations

from pathlib import Path

import pytest
import segno

from client.qr import NoQrCodeError, is_image, read_qr_image
from client.wallet import OfferRefusedError
from client.wallet.commands import _offer_link

LINK = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fid.gov.vn%2Fmps%2Foffers%2Fabc123"


def test_an_offer_link_round_trips_through_a_png(tmp_path: Path) -> None:
    image = tmp_path / "offer.png"
    segno.make_qr(LINK).save(str(image), scale=4)
    assert is_image(image)
    assert read_qr_image(image) == LINK
    assert _offer_link(str(image)) == LINK


def test_an_image_without_a_qr_code_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "blank.png"
    segno.make_qr("x").save(str(image), scale=1, dark="white")
    with pytest.raises(NoQrCodeError):
        read_qr_image(image)
    with pytest.raises(OfferRefusedError, match="cannot read an offer"):
        _offer_link(str(image))


def test_a_text_file_is_not_taken_for_an_image(tmp_path: Path) -> None:
    text = tmp_path / "offer.txt"
    text.write_text(LINK + "\n")
    assert not is_image(text)
    assert _offer_link(str(text)) == LINK
