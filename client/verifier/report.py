"""Printing a verification report: a verdict line, the disclosed claims, the portrait as a file, the checks.

`--json` prints ``{"valid", "checks": [{"name", "ok", "code", "detail"}], "credentials": [{"vct", "issuer",
"claims", "status"}]}`` with msgspec alone (no rich), so that a scripted `verifier check` starts fast.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from client.verifier import EXIT_INVALID
from client.verifier.state import VerifierState
from shared.oid4vp.report import Report

HIDDEN_CLAIMS = frozenset({"_sd_alg", "cnf", "status"})
PORTRAIT_CLAIM = "portrait"
_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|gif|webp);base64,([A-Za-z0-9+/=\s]+)")


def write_json(value: Any) -> None:
    """One JSON document on stdout: `client.output.json` without importing rich on the fast path."""
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    sys.stdout.flush()


def language(env: Mapping[str, str]) -> str:
    """vi when $LANG is Vietnamese, else en."""
    return "vi" if env.get("LANG", "").lower().startswith("vi") else "en"


def finish_report(report: Report, state: VerifierState | None, *, as_json: bool, title: str) -> None:
    """Print the report (JSON without rich, or for a person with the clinic's display names and portrait
    folder) and exit 1 when it is not valid."""
    if as_json:
        write_json(report.to_json())
    else:
        names = state.display_names() if state is not None else {}
        portraits = state.root / "portraits" if state is not None else Path.cwd()
        print_report(report, names=names, portrait_dir=portraits, lang=language(os.environ), title=title)
    if not report.valid:
        import typer

        raise typer.Exit(EXIT_INVALID)


def print_report(
    report: Report, *, names: Mapping[str, Any], portrait_dir: Path, lang: str, title: str = ""
) -> None:
    """The human report: verdict, each credential's disclosed claims (issuer names), portrait file, checks."""
    from client import output

    failed = report.failed()
    if report.valid:
        output.console.print(f"[bold green]VALID[/] {title}".rstrip())
    else:
        codes = ", ".join(sorted({f"{c.name}: {c.code}" for c in failed})) or "no checks ran"
        output.console.print(f"[bold red]INVALID[/] {title} ({codes})".replace("  ", " "))
    credentials = names.get("credentials", {})
    issuers = names.get("issuers", {})
    for presented in report.credentials:
        shown = _localized(credentials.get(presented.vct, {}), lang)
        issuer = _localized(issuers.get(presented.issuer, {}), lang).get("", presented.issuer)
        heading = f"{shown.get('', presented.vct)} — {issuer} (status: {presented.status})"
        rows = []
        for claim, value in sorted(presented.claims.items()):
            if claim in HIDDEN_CLAIMS:
                continue
            if claim == PORTRAIT_CLAIM and isinstance(value, str):
                value = save_portrait(value, portrait_dir) or "(not an image)"
            rows.append((shown.get(claim, claim), _text(value)))
        output.table(
            heading, ("claim" if lang == "en" else "thông tin", "value" if lang == "en" else "giá trị"), rows
        )
    output.table(
        "checks",
        ("check", "", "code", "detail"),
        [(c.name, "✔" if c.ok else "✘", c.code, c.detail) for c in report.checks],
    )


def save_portrait(data_url: str, folder: Path) -> str | None:
    """Write a ``data:image/...;base64,`` portrait to ``folder`` (0600); its path, or None if not one."""
    match = _DATA_URL.fullmatch(data_url.strip())
    if match is None:
        return None
    try:
        image = base64.b64decode(re.sub(r"\s", "", match[2]), validate=True)
    except (binascii.Error, ValueError):
        return None
    extension = "jpg" if match[1] in ("jpeg", "jpg") else match[1]
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"portrait-{hashlib.sha256(image).hexdigest()[:16]}.{extension}"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(image)
    return str(path)


def _localized(by_locale: Mapping[str, Any], lang: str) -> dict[str, Any]:
    chosen: Any = by_locale.get(lang) or by_locale.get("en") or next(iter(by_locale.values()), {})
    return chosen if isinstance(chosen, dict) else {"": chosen}


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    return str(value)
