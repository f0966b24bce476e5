"""Which copy of a card to present (issue 4): one copy per verifier, so verifiers cannot link presentations.

A copy already shown to this verifier is shown again; otherwise an unused copy; only when none is left the
least recently used copy is shown again, and the citizen is told that verifiers can now link the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from client.wallet import WalletError
from client.wallet.store import StoredCopy, verifier_hash

LOW_COPIES = 2
"""Warn when a card has this many unused copies left, or fewer."""


@dataclass(frozen=True)
class CopyChoice:
    """The copy to present and what choosing it means."""

    copy: StoredCopy
    fresh: bool
    """An unused copy: presenting it consumes one."""
    linkable: bool
    """Shown before to another verifier: the two verifiers can link the presentations."""


def choose_copy(copies: Sequence[StoredCopy], verifier_id: str) -> CopyChoice:
    """The copy of one card to present to ``verifier_id`` (its client id)."""
    if not copies:
        raise WalletError("this card has no copies left", hint="run `cancuoc wallet refresh` for it")
    mine = verifier_hash(verifier_id)
    same = [c for c in copies if c.used_for == mine]
    if same:
        return CopyChoice(max(same, key=lambda c: c.used_at or ""), fresh=False, linkable=False)
    unused = [c for c in copies if c.used_for is None]
    if unused:
        return CopyChoice(unused[0], fresh=True, linkable=False)
    return CopyChoice(min(copies, key=lambda c: c.used_at or ""), fresh=False, linkable=True)


def low_copies_warning(card_id: str, left: int) -> str | None:
    """The line telling the citizen to refresh a card running out of unused copies, if it is."""
    if left > LOW_COPIES:
        return None
    copies = "copy" if left == 1 else "copies"
    return f"card {card_id} has {left} {copies} left: run `cancuoc wallet refresh {card_id}`"


def linkable_warning(card_id: str) -> str:
    return (
        f"card {card_id} has no unused copy left: a copy shown to another verifier was used again, "
        f"so the two verifiers can link these presentations (run `cancuoc wallet refresh {card_id}`)"
    )
