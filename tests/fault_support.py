"""Faults for issue 6: a TCP proxy that cuts the server off its database, a SIGKILL of a running server, and
a reading of the issuance records a crash must leave whole."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from issuance_helpers import run_sql
from server_process import RunningServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.config import ServerConfig
from server.store.schema import credential_families, issuance_log, status_entries
from shared.encoding import b64url_encode
from shared.sdjwt.present import read_unverified

HOST = "127.0.0.1"


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `stop()` refuses new connections and cuts the open ones,
    `start()` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextmanager
def proxied_postgres(url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A running proxy in front of the PostgreSQL of ``url``, and the same URL through the proxy."""
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or HOST, parts.port or 5432)
    proxy.start()
    try:
        netloc = parts.netloc.rsplit("@", 1)
        user = f"{netloc[0]}@" if len(netloc) == 2 else ""
        yield proxy, parts._replace(netloc=f"{user}{HOST}:{proxy.port}").geturl()
    finally:
        proxy.stop()


def kill_server(server: RunningServer) -> int:
    """SIGKILL the server's whole process group (master and workers) at once; the group id."""
    for line in server.log.read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("event") == "server starting":
            group = os.getpgid(int(entry["pid"]))
            os.killpg(group, signal.SIGKILL)
            return group
    raise AssertionError("the server never logged its start")


class Received(NamedTuple):
    """A credential as a client received it: the status entry it names and its digest."""

    list_id: int
    idx: int
    credential_hash: str


def received_credentials(bodies: Iterable[bytes]) -> list[Received]:
    """Every credential in the given credential responses (§8.3), with the status entry from its payload."""
    received = []
    for body in bodies:
        for item in json.loads(body)["credentials"]:
            credential = item["credential"]
            reference = read_unverified(credential).claims["status"]["status_list"]
            list_id = int(urlsplit(reference["uri"]).path.rsplit("/", 1)[1])
            digest = b64url_encode(hashlib.sha256(credential.encode("ascii")).digest())
            received.append(Received(list_id, int(reference["idx"]), digest))
    return received


@dataclass
class IssuanceRecords:
    """What the database holds about issuance: families, status entries, log rows and duplicate checks."""

    families: dict[str, int]
    """Family id → number of status entries it owns."""
    entries: dict[tuple[str, int, int], str]
    """(issuer, list, idx) → family."""
    issue_rows: list[dict[str, Any]]
    duplicate_entries: list[tuple[Any, ...]]
    duplicate_logged_entries: list[tuple[Any, ...]]
    sequence: list[int]


def read_issuance_records(config: ServerConfig) -> IssuanceRecords:
    """Read every issuance record, and look for a (list, idx) given twice, with explicit queries."""

    async def read(connection: AsyncConnection) -> IssuanceRecords:
        entries = await connection.execute(select(status_entries))
        families = await connection.execute(
            select(credential_families.c.id, func.count(status_entries.c.idx))
            .select_from(credential_families.outerjoin(status_entries))
            .group_by(credential_families.c.id)
        )
        log = await connection.execute(select(issuance_log).order_by(issuance_log.c.seq))
        log_rows = [dict(row._mapping) for row in log]
        key = (status_entries.c.issuer, status_entries.c.list_id, status_entries.c.idx)
        duplicates = await connection.execute(select(*key).group_by(*key).having(func.count() > 1))
        logged = (issuance_log.c.issuer, issuance_log.c.list_id, issuance_log.c.idx)
        duplicate_logged = await connection.execute(
            select(*logged).where(issuance_log.c.event == "issue").group_by(*logged).having(func.count() > 1)
        )
        return IssuanceRecords(
            families={str(family): int(count) for family, count in families},
            entries={(r.issuer, int(r.list_id), int(r.idx)): str(r.family_id) for r in entries},
            issue_rows=[row for row in log_rows if row["event"] == "issue"],
            duplicate_entries=[tuple(row) for row in duplicates],
            duplicate_logged_entries=[tuple(row) for row in duplicate_logged],
            sequence=[int(row["seq"]) for row in log_rows],
        )

    return run_sql(config, read)
