"""Hypothesis properties of the SD-JWT core: what is presented is exactly what is verified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import jose
from shared.sdjwt.markers import SD
from shared.sdjwt.present import create_presentation, read_unverified
from shared.sdjwt.process import ClaimPath
from shared.sdjwt.verify import KeyBindingPolicy, verify_sd_jwt

NOW = datetime(2026, 11, 24, tzinfo=UTC)
ISSUER_KEY = jose.generate_private_key(kid="prop-issuer")
HOLDER_KEY = jose.generate_private_key()
RESERVED = {"_sd", "...", "_sd_alg", "cnf", "iat", "exp", "nbf", "aud"}

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzđăâêôơư_", min_size=1, max_size=8).filter(
    lambda n: n not in RESERVED
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False),
)


def marked(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    members = st.dictionaries(st.tuples(names, st.booleans()), children, max_size=4).map(
        lambda d: _unique_names({(SD(n) if hidden else n): v for (n, hidden), v in d.items()})
    )
    elements = st.lists(st.tuples(children, st.booleans()), max_size=4).map(
        lambda items: [SD(v) if hidden else v for v, hidden in items]
    )
    return st.one_of(members, elements)


def _unique_names(obj: dict[Any, Any]) -> dict[Any, Any]:
    seen: set[str] = set()
    out = {}
    for key, value in obj.items():
        name = key.value if isinstance(key, SD) else key
        if name not in seen:
            seen.add(name)
            out[key] = value
    return out


claim_values = st.recursive(scalars, marked, max_leaves=12)
claim_sets = st.dictionaries(st.tuples(names, st.booleans()), claim_values, min_size=1, max_size=6).map(
    lambda d: _unique_names({(SD(n) if hidden else n): v for (n, hidden), v in d.items()})
)


def related(a: ClaimPath, b: ClaimPath) -> bool:
    return all(x == y for x, y in zip(a, b, strict=False))


def expected_view(value: Any, chosen: list[ClaimPath], path: ClaimPath = ()) -> Any:
    """The claims a verifier must see: plaintext everywhere, SD items only on a chosen path."""
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            name = key.value if isinstance(key, SD) else key
            child_path = (*path, name)
            if isinstance(key, SD) and not any(related(child_path, c) for c in chosen):
                continue
            out[name] = expected_view(child, chosen, child_path)
        return out
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            child_path = (*path, index)
            if isinstance(item, SD):
                if not any(related(child_path, c) for c in chosen):
                    continue
                item = item.value
            items.append(expected_view(item, chosen, child_path))
        return items
    return value


@settings(max_examples=150, deadline=None)
@given(claims=claim_sets, data=st.data())
def test_verify_of_present_yields_always_visible_claims_plus_the_chosen(
    claims: dict[Any, Any], data: Any
) -> None:
    issued = read_unverified_issue(claims)
    disclosable = [path for path, _ in read_unverified(issued).disclosures]
    chosen = data.draw(st.lists(st.sampled_from(disclosable), unique=True) if disclosable else st.just([]))
    presentation = create_presentation(
        issued, chosen, holder_key=HOLDER_KEY, audience="aud", nonce="nonce", issued_at=int(NOW.timestamp())
    )
    verified = verify_sd_jwt(
        presentation,
        ISSUER_KEY.public,
        now=NOW,
        typ="example+sd-jwt",
        key_binding=KeyBindingPolicy("aud", "nonce"),
    )
    claims_seen = {k: v for k, v in verified.claims.items() if k != "cnf"}
    assert claims_seen == expected_view(claims, chosen)


def read_unverified_issue(claims: dict[Any, Any]) -> str:
    from shared.sdjwt.issue import issue_sd_jwt

    return issue_sd_jwt(
        {**claims, "cnf": {"jwk": HOLDER_KEY.public.jwk}}, ISSUER_KEY, typ="example+sd-jwt", decoys=1
    )
