"""A rating token has one spelling (issue 13, point 10): appended padding, inserted junk or a
last character with stray bits is refused, with 401, not accepted as the same token. The
property: any change to a valid token's text is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.security import TokenClaims, TokenError, sign_token, verify_token
from tests.helpers.register import Env

SECRET = b"property-test-secret"
FAR = 4_102_444_800  # 2100-01-01: never expired during the test
TOKEN = sign_token(SECRET, TokenClaims("0123456789abcdef0123456789abcdef", 7, 3, FAR))
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _mutations(token: str) -> list[str]:
    """The spellings the attack found accepted, and their relatives."""
    head, payload, sig = token.split(".")
    last = B64URL.index(sig[-1])
    sibling = B64URL[last ^ 1]  # the 43rd character carries 4 bits: the lowest 2 are not used
    spellings = [
        token + "=AAAA",
        token + "=",
        token + "==",
        f"{head}.{payload}.{sig[:10]}!!**{sig[10:]}",
        f"{head}.{payload}.{sig[:5]} {sig[5:]}",
        f"{head}.{payload}.{sig}\n",
        f"{head}.{payload}.{sig[:-1]}{sibling}",
        f"{head}.{payload}=.{sig}",
        f"{head}.{payload}.{sig.replace('-', '+').replace('_', '/')}",
        f" {token}",
    ]
    return [m for m in spellings if m != token]  # (the base64 spelling is the same without - or _)


def test_the_token_itself_verifies() -> None:
    assert verify_token(SECRET, TOKEN).token_id == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("mutated", _mutations(TOKEN))
def test_non_canonical_spellings_are_refused(mutated: str) -> None:
    assert mutated != TOKEN
    with pytest.raises(TokenError) as err:
        verify_token(SECRET, mutated)
    assert err.value.status == 401


JUNK = st.text(alphabet=B64URL + "=.!*+/ \n\t\x00é中", min_size=1, max_size=6)


@st.composite
def mutated_tokens(draw: st.DrawFn) -> str:
    """The token with characters inserted, deleted or replaced somewhere."""
    i = draw(st.integers(0, len(TOKEN)))
    j = draw(st.integers(i, min(len(TOKEN), i + 6)))
    kind = draw(st.sampled_from(["insert", "delete", "replace"]))
    if kind == "insert":
        return TOKEN[:i] + draw(JUNK) + TOKEN[i:]
    if kind == "delete":
        return TOKEN[:i] + TOKEN[j:]
    return TOKEN[:i] + draw(JUNK) + TOKEN[j:]


@settings(max_examples=400, deadline=None)
@given(mutated_tokens())
def test_any_change_to_a_token_is_refused(mutated: str) -> None:
    if mutated == TOKEN:
        return
    with pytest.raises(TokenError):
        verify_token(SECRET, mutated)


def test_the_api_and_the_widget_refuse_non_canonical_tokens(api: Env) -> None:
    tok = api.token()
    for mutated in _mutations(tok):
        control = any(ord(c) < 32 for c in mutated)  # refused at the edge (egov.inputs): 422
        page = api.client.get("/widget/ONE_ACCOUNT", params={"token": mutated})
        assert page.status_code == (422 if control else 400), mutated
        if mutated.strip() == tok:  # the JSON schemas trim every string field: the same token
            continue
        r = api.rate(mutated)
        if control:
            assert r.status_code == 422, (mutated, r.text)
        else:
            assert r.status_code == 401 and "malformed" in r.json()["detail"], (mutated, r.text)
    batch = api.client.post("/api/v1/ratings/batch", json={"items": [{"token": tok + "=AAAA", "level": 5}]})
    assert batch.json()["items"][0]["code"] == 401
    assert api.rate(tok).status_code == 200  # the token as issued still works, once
