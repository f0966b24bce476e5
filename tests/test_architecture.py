"""The layering rules: `shared` is pure, and `server` and `client` never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Anything that reaches the clock, the environment, disks, networks or a framework stays out of `shared`.
FORBIDDEN_IN_SHARED = {
    "server",
    "client",
    "os.path",
    "pathlib",
    "shutil",
    "tempfile",
    "io",
    "socket",
    "ssl",
    "http",
    "urllib.request",
    "urllib.error",
    "httpx",
    "requests",
    "asyncio",
    "subprocess",
    "sqlite3",
    "sqlalchemy",
    "litestar",
    "typer",
    "rich",
    "time",
    "logging",
    "threading",
    "multiprocessing",
    "glob",
    "random",
}


def imported_modules(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.extend((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def is_under(module: str, roots: set[str]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def test_shared_imports_no_side_effects_or_frameworks() -> None:
    bad = [
        f"{p.relative_to(ROOT)}: {m}"
        for p, m in imported_modules("shared")
        if is_under(m, FORBIDDEN_IN_SHARED)
    ]
    assert bad == []


def test_shared_reads_no_environment_or_clock() -> None:
    offenders = []
    for path in (ROOT / "shared").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("os.environ", "getenv", "datetime.now", "date.today", "time.time", "open("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


@pytest.mark.parametrize(("package", "other"), [("server", "client"), ("client", "server")])
def test_server_and_client_never_import_each_other(package: str, other: str) -> None:
    bad = [f"{p.relative_to(ROOT)}: {m}" for p, m in imported_modules(package) if is_under(m, {other})]
    assert bad == []


def test_the_checker_sees_imports() -> None:
    assert ("jws.py", "cryptography.exceptions") in {(p.name, m) for p, m in imported_modules("shared")}


def test_only_the_jose_package_touches_the_crypto_libraries() -> None:
    jose = ROOT / "shared" / "jose"
    bad = [
        f"{p.relative_to(ROOT)}: {m}"
        for p, m in imported_modules("shared")
        if is_under(m, {"jwt", "cryptography"}) and jose not in p.parents
    ]
    assert bad == []
