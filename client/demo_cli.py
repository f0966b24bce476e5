"""The `cancuoc` commands `cancuoc demo` runs, each a separate process with its own role's environment."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from client.local_server import LocalServerError, console_script

COMMAND_SECONDS = 120
CHECK_IN_SECONDS = 60
"""How long the clinic's `verifier request` waits for the wallet (`--timeout`)."""
LINK_PREFIX = "openid4vp://"


@dataclass(frozen=True)
class Cli:
    """`cancuoc ...` as one person runs it: their own CANCUOC_HOME and, if any, PIN, server and token."""

    home: Path
    settings: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}
        environment.update(self.settings, CANCUOC_HOME=str(self.home), COLUMNS="200")
        return environment

    def run(self, *args: str, exit_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run ``cancuoc ARGS`` to the end; an exit code outside ``exit_codes`` stops the demo."""
        done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
            [console_script("cancuoc"), *args],
            env=self.environment(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
            check=False,
        )
        if done.returncode not in exit_codes:
            raise LocalServerError(f"{_named(args)} failed ({done.returncode}): {_tail(done.stderr)}")
        return done

    def json(self, *args: str) -> Any:
        """Run ``cancuoc ARGS --json`` and decode what it printed."""
        return json.loads(self.run(*args, "--json").stdout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start ``cancuoc ARGS`` in the background, stdout and stderr piped."""
        return subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
            [console_script("cancuoc"), *args],
            env=self.environment(),
            cwd=self.home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass(frozen=True)
class CheckIn:
    """One cross-device check-in: what the wallet said it shared, and the clinic's verdict and exit code."""

    link: str
    shared: dict[str, Any]
    report: dict[str, Any]
    exit_code: int


def cross_device_check_in(clinic: Cli, citizen: Cli, preset: str = "clinic-checkin") -> CheckIn:
    """The clinic waits in `verifier request --json` (link on stderr) while the wallet answers the link."""
    errors: list[str] = []
    with clinic.start(
        "verifier", "request", "--preset", preset, "--json", "--timeout", str(CHECK_IN_SECONDS)
    ) as waiting:
        try:
            stdout, stderr = _pipes(waiting)
            link = _read_link(stderr, errors)
            if link is None:
                waiting.wait(timeout=COMMAND_SECONDS)
                raise LocalServerError(f"cancuoc verifier request showed no link: {_tail(''.join(errors))}")
            drain = threading.Thread(target=errors.extend, args=(stderr,), daemon=True)
            drain.start()
            shared = citizen.json("wallet", "present", link, "--yes")
            answer = stdout.read()
            exit_code = waiting.wait(timeout=COMMAND_SECONDS)
            drain.join(timeout=5)
        finally:
            if waiting.poll() is None:  # the wallet failed: stop the waiting clinic
                waiting.kill()
    if exit_code not in (0, 1):
        raise LocalServerError(f"cancuoc verifier request failed ({exit_code}): {_tail(''.join(errors))}")
    return CheckIn(link, shared, json.loads(answer), exit_code)


def _pipes(process: subprocess.Popen[str]) -> tuple[IO[str], IO[str]]:
    if process.stdout is None or process.stderr is None:
        raise LocalServerError("cancuoc verifier request started without pipes")
    return process.stdout, process.stderr


def _read_link(stream: IO[str], seen: list[str]) -> str | None:
    """The first openid4vp:// line the clinic printed, or None when it ended without one."""
    for line in stream:
        if line.startswith(LINK_PREFIX):
            return line.strip()
        seen.append(line)
    return None


def _named(args: tuple[str, ...]) -> str:
    return "cancuoc " + " ".join(args[: 3 if args[:2] == ("admin", "verifier") else 2])


def _tail(text: str) -> str:
    return text.strip()[-500:] or "(no message)"
