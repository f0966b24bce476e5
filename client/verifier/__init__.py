"""The clinic's verifier (`cancuoc verifier`): its key, certificate and caches, requests and checks.

VerifierError                 the verifier cannot do what was asked; ``exit_code`` says how
├── NotSetUpError             no verifier under CANCUOC_HOME, or not enrolled yet (exit 2, misuse)
├── SetUpExistsError          `init` where a verifier already is (exit 2, misuse)
├── UsageError                bad input: unreadable file, bad duration or time, unknown preset (exit 2)
├── EnrolmentRefusedError     the registrar's answer is not for this key or not under the pinned root (exit 1)
├── TrustAnchorError          the trust anchor cannot be read or does not match the pinned one (exit 1)
└── NoAnswerError             the wallet did not answer before the timeout (exit 3)
"""

from __future__ import annotations

EXIT_INVALID = 1
EXIT_MISUSE = 2
EXIT_SERVER = 3


class VerifierError(Exception):
    """The verifier cannot do what was asked; `hint` tells the clinic what to do."""

    exit_code = EXIT_MISUSE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class NotSetUpError(VerifierError):
    """No verifier under CANCUOC_HOME, or one that is not enrolled yet."""


class SetUpExistsError(VerifierError):
    """A verifier is already there; `init` never overwrites its key."""


class UsageError(VerifierError):
    """An argument or file that cannot be used."""


class EnrolmentRefusedError(VerifierError):
    """The registrar's answer does not certify this clinic's key under the pinned root."""

    exit_code = EXIT_INVALID


class TrustAnchorError(VerifierError):
    """A trust anchor that cannot be read, or a server whose root is not the pinned one."""

    exit_code = EXIT_INVALID


class NoAnswerError(VerifierError):
    """The wallet did not answer the request in time."""

    exit_code = EXIT_SERVER
