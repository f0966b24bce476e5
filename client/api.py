"""The client's one HTTP module: calls to the cancuoc server's admin endpoints, their answers typed.

ApiError                 the server could not be used
├── ServerError          it answered with an error: status, `error`, `error_description`
└── UnreachableError     it could not be reached (refused, timed out, DNS, TLS)
"""

from __future__ import annotations

import errno
import re
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from shared.oid4vci import CredentialOffer, CredentialResponse, NonceResponse, TokenResponse

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30.0
Status = Literal["valid", "revoked", "suspended"]
T = TypeVar("T")


class ApiError(Exception):
    """The server could not do what was asked."""


class ServerError(ApiError):
    """The server answered with an error (``{"error", "error_description"}`` when it is ours)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}" if description else f"{status} {error}")
        self.status = status
        self.error = error
        self.description = description


class UnreachableError(ApiError):
    """No answer from the server at all."""

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(f"cannot reach the server at {base_url}: {reason} (is cancuoc-server running?)")
        self.base_url = base_url
        self.reason = reason


class Model(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of the answers; unknown members are ignored so the server may add some."""


class Offer(Model, frozen=True, kw_only=True):
    """An offer made for a citizen (`POST /{issuer}/offers`)."""

    offer_id: str
    credential_offer: dict[str, Any]
    credential_offer_uri: str
    offer_uri: str
    expires_at: str
    tx_code: str | None = None


class Family(Model, frozen=True, kw_only=True):
    """A credential family: every copy of one issued credential, sharing one status."""

    id: str
    configuration_id: str
    status: str
    vct: str | None = None
    issued_at: str | None = None
    status_changed_at: str | None = None


class Families(Model, frozen=True, kw_only=True):
    families: list[Family]


class VerifierRegistration(Model, frozen=True, kw_only=True):
    """`POST /verifiers`'s answer: the clinic's client id, certificate (PEM), chain and registration."""

    client_id: str
    certificate: str
    chain: list[str]
    registration: str


class _ErrorBody(msgspec.Struct):
    error: str
    error_description: str = ""


class _Client:
    """An ``httpx.Client`` closed on ``close()`` or at the end of a ``with`` block."""

    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class ServerApi(_Client):
    """The admin endpoints of one server, called with an operator's bearer token."""

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        token: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "cancuoc-admin"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def create_offer(
        self, issuer: str, citizen_id: str, configuration_ids: list[str], *, by_reference: bool = False
    ) -> Offer:
        """Make a credential offer; the answer holds the offer URI and the transaction code."""
        body = {
            "citizen_id": citizen_id,
            "credential_configuration_ids": configuration_ids,
            "by_reference": by_reference,
        }
        return self._call("POST", f"/{issuer}/offers", Offer, json=body)

    def set_family_status(self, issuer: str, family_id: str, status: Status) -> Families:
        """Revoke, suspend or reinstate one credential family."""
        return self._call(
            "POST", f"/{issuer}/families/{_segment(family_id)}/status", Families, json={"status": status}
        )

    def set_citizen_status(self, issuer: str, citizen_id: str, status: Status) -> Families:
        """Revoke, suspend or reinstate every family a citizen holds from ``issuer``."""
        return self._call(
            "POST", f"/{issuer}/citizens/{_segment(citizen_id)}/status", Families, json={"status": status}
        )

    def healthy(self) -> bool:
        """True when the server answers `/health` with 200."""
        try:
            return self._http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def list_families(self, issuer: str, citizen_id: str) -> Families:
        """The credential families a citizen holds from ``issuer``."""
        return self._call("GET", f"/{issuer}/citizens/{_segment(citizen_id)}/families", Families)

    def register_verifier(
        self, *, name: str, purpose: str, public_jwk: dict[str, Any], allowed: list[dict[str, Any]]
    ) -> VerifierRegistration:
        """Register a clinic's key (admin): its certificate and signed registration record."""
        body = {"name": name, "purpose": purpose, "public_jwk": public_jwk, "allowed": allowed}
        return self._call("POST", "/verifiers", VerifierRegistration, json=body)

    def _call(self, method: str, path: str, answer: type[T], **options: Any) -> T:
        return _exchange(self._http, method, path, answer, where=self.base_url, **options)


class IssuerApi(_Client):
    """A credential issuer's OpenID4VCI endpoints, called by the wallet at absolute URLs (no redirects)."""

    def __init__(
        self, *, timeout: float = TIMEOUT_SECONDS, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "cancuoc-wallet"}
        self._http = httpx.Client(
            headers=headers, timeout=timeout, transport=transport, follow_redirects=False
        )

    def get(self, url: str, answer: type[T]) -> T:
        """GET a JSON document (metadata, JWKS) into its wire type."""
        return _exchange(self._http, "GET", url, answer)

    def fetch_offer(self, url: str) -> CredentialOffer:
        """The offer behind a ``credential_offer_uri`` (OID4VCI §4.1.3)."""
        return _exchange(self._http, "GET", url, CredentialOffer)

    def token(self, url: str, form: dict[str, str]) -> TokenResponse:
        """Redeem a pre-authorized code (OID4VCI §6)."""
        return _exchange(self._http, "POST", url, TokenResponse, data=form)

    def nonce(self, url: str) -> str:
        """A fresh ``c_nonce`` (OID4VCI §7)."""
        return _exchange(self._http, "POST", url, NonceResponse).c_nonce

    def credential(self, url: str, access_token: str, body: dict[str, object]) -> CredentialResponse:
        """Request credentials with key proofs (OID4VCI §8)."""
        headers = {"Authorization": f"Bearer {access_token}"}
        return _exchange(self._http, "POST", url, CredentialResponse, json=body, headers=headers)

    def status_list(self, url: str) -> str:
        """A Token Status List JWT (TSL §8.1), as text; redirects are not followed."""
        try:
            response = self._http.get(url, headers={"Accept": "application/statuslist+jwt"})
        except httpx.TransportError as exc:
            raise UnreachableError(url, _reason(exc)) from exc
        if response.is_error or response.is_redirect:
            raise _server_error(response)
        return response.text

    def fetch_request_object(self, url: str) -> str:
        """The signed request object behind a ``request_uri`` (OID4VP §5.10); a redirect is refused (P11)."""
        return _send(
            self._http, "GET", url, headers={"Accept": "application/oauth-authz-req+jwt"}
        ).text.strip()

    def post_vp_response(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        """Send the ``vp_token`` to the verifier's ``response_uri`` (direct_post, §8.2), no redirects."""
        text = _send(self._http, "POST", url, data=form, headers={"Accept": "application/json"}).text
        try:
            answer = msgspec.json.decode(text or "{}")
        except msgspec.DecodeError as exc:
            raise ServerError(200, "invalid_response", f"unexpected answer: {exc}") from exc
        return answer if isinstance(answer, dict) else {}

    def fetch_text(self, url: str, accept: str) -> str:
        """A text document at an absolute URL (a root certificate PEM), no redirects."""
        return _send(self._http, "GET", url, headers={"Accept": accept}).text


def _send(
    http: httpx.Client, method: str, url: str, *, where: str | None = None, **options: Any
) -> httpx.Response:
    """One request, no redirects; transport failures and error answers become `ApiError`s."""
    try:
        response = http.request(method, url, **options)
    except httpx.TransportError as exc:
        raise UnreachableError(where or url, _reason(exc)) from exc
    except httpx.InvalidURL as exc:
        raise UnreachableError(where or url, f"invalid URL: {exc}") from exc
    if response.is_redirect:
        raise ServerError(response.status_code, "redirect_refused", "redirects are not followed")
    if response.is_error:
        raise _server_error(response)
    return response


def _exchange(
    http: httpx.Client, method: str, url: str, answer: type[T], *, where: str | None = None, **options: Any
) -> T:
    """One request whose answer is decoded into ``answer``; an unexpected body is a `ServerError` too."""
    response = _send(http, method, url, where=where, **options)
    try:
        return msgspec.json.decode(response.content, type=answer)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ServerError(response.status_code, "invalid_response", f"unexpected answer: {exc}") from exc


def _segment(value: str) -> str:
    """One path segment, whatever the operator typed."""
    return quote(value, safe="")


def _server_error(response: httpx.Response) -> ServerError:
    try:
        body = msgspec.json.decode(response.content, type=_ErrorBody)
    except msgspec.DecodeError:
        return ServerError(response.status_code, "http_error", response.reason_phrase)
    return ServerError(response.status_code, body.error, body.error_description)


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or type(exc).__name__


class Transaction(Model, frozen=True, kw_only=True):
    """A verifier relay transaction (`POST /verifier/transactions`): where the wallet fetches and answers."""

    transaction_id: str
    request_uri: str
    response_uri: str
    read_token: str
    expires_in: int


class PkiBundle(Model, frozen=True, kw_only=True):
    """`GET /pki`: the national root, the server's leaf certificates by role, its status list uris (PEM)."""

    root: str
    certificates: dict[str, str] = {}
    status_lists: list[str] = []


class RelayApi(_Client):
    """A clinic's calls: the server's verifier relay and PKI, and absolute URLs (no redirects followed)."""

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "cancuoc-verifier"}
        self._http = httpx.Client(
            headers=headers, timeout=timeout, transport=transport, follow_redirects=False
        )

    def create_transaction(self) -> Transaction:
        """A new relay transaction; its ``read_token`` is the only way to the wallet's answer."""
        return _exchange(self._http, "POST", f"{self.base_url}/verifier/transactions", Transaction)

    def put_request(self, transaction: Transaction, request_object: str) -> None:
        """Store the signed request object the wallet will fetch from ``request_uri``."""
        url = f"{self.base_url}/verifier/transactions/{_segment(transaction.transaction_id)}/request"
        headers = {
            "Authorization": f"Bearer {transaction.read_token}",
            "Content-Type": "application/oauth-authz-req+jwt",
        }
        _send(self._http, "PUT", url, content=request_object.encode(), headers=headers)

    def result(self, transaction: Transaction) -> dict[str, Any] | None:
        """The wallet's answer once (``{"vp_token", "state"}`` or an error), None while it is pending."""
        url = f"{self.base_url}/verifier/transactions/{_segment(transaction.transaction_id)}/result"
        response = _send(
            self._http, "GET", url, headers={"Authorization": f"Bearer {transaction.read_token}"}
        )
        if response.status_code == 202:
            return None
        try:
            answer = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ServerError(response.status_code, "invalid_response", f"unexpected answer: {exc}") from exc
        if not isinstance(answer, dict):
            raise ServerError(response.status_code, "invalid_response", "the answer is not a JSON object")
        return answer

    def pki(self) -> PkiBundle:
        """The server's published trust material (`GET /pki`)."""
        return _exchange(self._http, "GET", f"{self.base_url}/pki", PkiBundle)

    def get(self, url: str, answer: type[T]) -> T:
        """GET a JSON document at an absolute URL (issuer metadata) into its wire type."""
        return _exchange(self._http, "GET", url, answer)

    def get_text(self, url: str, accept: str) -> str:
        """GET a text document at an absolute URL (a status list JWT, a root certificate PEM)."""
        return _send(self._http, "GET", url, headers={"Accept": accept}).text
