"""Reading the published SD-JWT vectors: the `!sd` YAML tag, holder choices, wrapped example text.

The reference test cases (OWF sd-jwt-python) and the RFC 9901 examples describe what to disclose as
`holder_disclosed_claims`: a structure that mirrors the claims with true/false per selectively
disclosable member or element. `holder_choice` turns it into our claim paths, and, independently of
our core, into the claims a verifier must end up with, following the reference holder's rules.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.sdjwt.markers import SD
from shared.sdjwt.process import ClaimPath

VECTORS = Path(__file__).parent / "vectors"
SD_TAG = "!sd"
_SD_KEY_TAG = "!sd-key"
_JSON_SCALARS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")}


class SdLoader(yaml.SafeLoader):
    """SafeLoader that maps `!sd` to `SD`: on a member name `SD(str)`, on a value `SD(value)`."""

    def construct_document(self, node: yaml.Node) -> Any:
        _tag_sd_keys(node, set())
        return super().construct_document(node)


def _tag_sd_keys(node: yaml.Node, seen: set[int]) -> None:
    # A tagged member name is always a string (JSON names are), even `!sd 42:`, so retag it first.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == SD_TAG and isinstance(key, yaml.ScalarNode):
                key.tag = _SD_KEY_TAG
            _tag_sd_keys(key, seen)
            _tag_sd_keys(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _tag_sd_keys(item, seen)


def _construct_sd_key(loader: yaml.SafeLoader, node: yaml.Node) -> SD:
    assert isinstance(node, yaml.ScalarNode)
    return SD(loader.construct_scalar(node))


def _construct_sd(loader: yaml.SafeLoader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.MappingNode):
        return SD(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return SD(loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.ScalarNode)
    if node.style in ('"', "'"):
        return SD(loader.construct_scalar(node))
    # The explicit tag switched off implicit typing: resolve `42`, `3.14`, `True`, `null` ourselves.
    tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    if tag not in _JSON_SCALARS:
        raise yaml.constructor.ConstructorError(
            None, None, f"!sd on a non-JSON scalar {tag}", node.start_mark
        )
    return SD(loader.yaml_constructors[tag](loader, node))


SdLoader.add_constructor(SD_TAG, _construct_sd)
SdLoader.add_constructor(_SD_KEY_TAG, _construct_sd_key)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, SdLoader)  # noqa: S506 - SdLoader is a SafeLoader


def strip_markers(value: Any) -> Any:
    """The claims as plain JSON, every `SD` unwrapped."""
    if isinstance(value, SD):
        return strip_markers(value.value)
    if isinstance(value, dict):
        return {strip_markers(k): strip_markers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_markers(v) for v in value]
    return value


def settings_for(folder: Path, case: dict[str, Any]) -> dict[str, Any]:
    """``settings.yml`` with the case's ``settings_override`` merged in.

    json_serialization_flattened puts ``issuer_keys`` at the top level of its override rather
    than under ``key_settings`` (the reference harness ignores overrides altogether); its evident
    intent, a kid on the issuer key, is honoured here.
    """
    settings = load_yaml(folder.parent / "settings.yml")
    override = dict(case.get("settings_override") or {})
    if "issuer_keys" in override:
        override.setdefault("key_settings", {})["issuer_keys"] = override.pop("issuer_keys")
    return _merge(settings, override)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for name, value in override.items():
        out[name] = _merge(out[name], value) if isinstance(value, dict) and name in out else value
    return out


def public_jwk(private_jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in private_jwk.items() if k not in ("d", "kid")}


@dataclass(frozen=True)
class HolderChoice:
    """What a holder discloses: the SD paths (holder's full view), our request paths, the result."""

    disclosed: frozenset[ClaimPath]
    paths: tuple[ClaimPath, ...]
    expected: dict[str, Any]


def holder_choice(claims: dict[Any, Any], choice: Any) -> HolderChoice:
    """Follow the reference holder: true discloses a member or element, not what is concealed inside it.

    Our holder API reveals a path together with everything beneath it, so a request is the set of
    deepest disclosed paths; a choice that opens a container but none of its concealed children
    cannot be expressed and is refused here.
    """
    disclosed: set[ClaimPath] = set()
    expected = _choose(claims, choice, (), disclosed)
    leaves = [p for p in disclosed if not any(q != p and q[: len(p)] == p for q in disclosed)]
    for leaf in leaves:
        if _concealed_below(claims, leaf):
            raise ValueError(f"cannot disclose {leaf} without what is concealed beneath it")
    return HolderChoice(frozenset(disclosed), tuple(sorted(leaves, key=repr)), expected)


def _choose(value: Any, choice: Any, path: ClaimPath, disclosed: set[ClaimPath]) -> Any:
    if isinstance(value, dict):
        chosen = choice if isinstance(choice, dict) else {}
        out: dict[str, Any] = {}
        for key, member in value.items():
            name = key.value if isinstance(key, SD) else key
            sub = chosen.get(name)
            if isinstance(key, SD):
                if not sub:
                    continue
                disclosed.add((*path, name))
            out[name] = _choose(member, sub, (*path, name), disclosed)
        return out
    if isinstance(value, list):
        chosen_items = choice if isinstance(choice, list) else []
        items: list[Any] = []
        for index, item in enumerate(value):
            sub = chosen_items[index] if index < len(chosen_items) else None
            if isinstance(item, SD):
                if sub in (False, None):
                    continue
                disclosed.add((*path, index))
                item = item.value
            items.append(_choose(item, sub, (*path, index), disclosed))
        return items
    return value


def _concealed_below(claims: Any, path: ClaimPath) -> bool:
    node = claims
    for step in path:
        if isinstance(node, dict):
            node = next(v for k, v in node.items() if (k.value if isinstance(k, SD) else k) == step)
        else:
            node = node[step]
        node = node.value if isinstance(node, SD) else node
    return _has_marker(node)


def _has_marker(value: Any) -> bool:
    if isinstance(value, dict):
        return any(isinstance(k, SD) or _has_marker(v) for k, v in value.items())
    if isinstance(value, list):
        return any(isinstance(v, SD) or _has_marker(v) for v in value)
    return False


def unwrap_text(text: str) -> str:
    """An example's compact serialization, line breaks removed."""
    return "".join(text.split())


def unwrap_json(text: str) -> str:
    """An example's JSON, with the line breaks (and indentation) inside long strings removed."""
    return re.sub(r"\n\s*", "", text)


@dataclass(frozen=True)
class ExampleDisclosure:
    """One block of an example's ``disclosures.md``."""

    name: str | None
    digest: str
    disclosure: str
    contents_lines: tuple[str, ...]


_BLOCK_START = re.compile(r"^__(?:Claim `(?P<name>.*)`|(?P<array>Array Entry))__:$")
_HASH = re.compile(r"^ \* SHA-256 Hash: `(?P<digest>[A-Za-z0-9_-]+)`$")
_CODE_LINE = re.compile(r"^`(?P<code>.*)`\\?$")


def parse_disclosures_md(text: str) -> list[ExampleDisclosure]:
    """Parse the claim blocks: hash, disclosure (wrapped over lines) and contents (wrapped JSON)."""
    blocks: list[ExampleDisclosure] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = _BLOCK_START.match(lines[i])
        if not start:
            i += 1
            continue
        name = None if start["array"] else start["name"]
        digest_match = _HASH.match(lines[i + 2])
        if not digest_match or lines[i + 3] != " * Disclosure:\\":
            raise ValueError(f"unexpected layout after line {i + 1}")
        disclosure, i = _code_lines(lines, i + 4)
        if lines[i] != " * Contents:":
            raise ValueError(f"unexpected layout at line {i + 1}")
        contents, i = _code_lines(lines, i + 1)
        blocks.append(ExampleDisclosure(name, digest_match["digest"], "".join(disclosure), tuple(contents)))
    return blocks


def _code_lines(lines: list[str], i: int) -> tuple[list[str], int]:
    out: list[str] = []
    while i < len(lines) and (match := _CODE_LINE.match(lines[i])):
        out.append(match["code"])
        continuing = lines[i].endswith("\\")
        i += 1
        if not continuing:
            break
    return out, i


def wrap_like_examples(text: str) -> list[str]:
    """How the example generator wraps a disclosure's JSON in ``disclosures.md`` (60 columns)."""
    return textwrap.fill(text, width=60, break_on_hyphens=False).splitlines()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
