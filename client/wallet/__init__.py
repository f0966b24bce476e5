"""The citizen's wallet (`cancuoc wallet`): PIN-protected SQLite storage of received credentials.

WalletError                 the wallet cannot do what was asked (exit 4, wallet state)
├── NoWalletError           no wallet under CANCUOC_HOME
├── WalletExistsError       `init` where a wallet already is
├── WrongPinError           the PIN does not open the wallet (counted)
├── LockedError             too many wrong PINs: wait
├── TamperedError           an encrypted row was edited, swapped or moved
├── UnknownCardError        no card with that id
├── OfferRefusedError       the offer cannot be accepted; nothing stored (exit 1, check failed)
└── PinFormatError          a PIN that is not at least 6 digits (exit 2, misuse)
"""

from __future__ import annotations


class WalletError(Exception):
    """The wallet cannot do what was asked; `hint` tells the citizen what to do."""

    exit_code = 4

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class NoWalletError(WalletError):
    """There is no wallet under CANCUOC_HOME."""


class WalletExistsError(WalletError):
    """A wallet is already there; `init` never overwrites one."""


class WrongPinError(WalletError):
    """The PIN does not open the wallet; the try was counted."""


class LockedError(WalletError):
    """Too many wrong PINs: the wallet refuses every PIN until `seconds` have passed."""

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"the wallet is locked after too many wrong PINs: try again in {seconds} s",
            hint="each further wrong PIN doubles the wait",
        )
        self.seconds = seconds


class TamperedError(WalletError):
    """An encrypted row does not decrypt under its own row binding: edited, swapped or moved."""


class UnknownCardError(WalletError):
    """No card with that id."""


class OfferRefusedError(WalletError):
    """The offer or the issuer's answer was refused; nothing was stored."""

    exit_code = 1


class PinFormatError(WalletError):
    """The PIN chosen is not at least 6 digits."""

    exit_code = 2
