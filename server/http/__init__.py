"""HTTP controllers: thin handlers that call services; `ROUTES` is what `create_app` registers."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from server.http.families import FamilyController
from server.http.health import health, ping
from server.http.metadata import MetadataController
from server.http.offers import OfferController
from server.http.oid4vci import Oid4vciController
from server.http.pki import PkiController, RegistrarController
from server.http.registry import RegistryController
from server.http.status import StatusListController
from server.http.verifier_relay import VerifierRelayController

ROUTES: list[ControllerRouterHandler] = [
    health,
    ping,
    MetadataController,
    StatusListController,
    FamilyController,
    OfferController,
    Oid4vciController,
    RegistryController,
    VerifierRelayController,
    PkiController,
    RegistrarController,
]
