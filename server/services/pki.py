"""What the server publishes of the national PKI: the root that wallets and verifiers pin, the leaves."""

from __future__ import annotations

from typing import Any

from server.context import ServerContext
from server.pki import SIGNER_ROLES
from server.store.status import all_status_lists


def root_pem(context: ServerContext) -> str:
    return context.pki.root_pem


async def pki_document(context: ServerContext) -> dict[str, Any]:
    """``{"root", "certificates": {role: PEM}, "status_lists": [uri]}``: what a verifier syncs."""
    async with context.database.transaction() as connection:
        lists = await all_status_lists(connection)
    pki = context.pki
    return {
        "root": pki.root_pem,
        "certificates": {role: pki.certificate_pem(role) for role in SIGNER_ROLES},
        "status_lists": [context.config.status_list_uri(issuer, list_id) for issuer, list_id in lists],
    }
