"""The one redaction (funnel.redact): registered secrets in every spelling, Authorization-like
values, log records (message and traceback) and table columns."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import polars as pl
import pytest

from funnel import redact
from funnel.redact import MASK

TOKEN = "pat-na1-0c5e/b+9=secret"


@pytest.fixture(autouse=True)
def registry() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


def test_a_registered_secret_is_masked_in_every_spelling() -> None:
    redact.register(TOKEN)
    assert redact.redact(f"echo: {TOKEN}!") == f"echo: {MASK}!"
    assert redact.redact("q=pat-na1-0c5e%2Fb%2B9%3Dsecret&x=1") == f"q={MASK}&x=1"
    assert redact.redact('{"t": "pat-na1-0c5e/b+9=secret"}') == f'{{"t": "{MASK}"}}'


def test_short_values_are_not_secrets() -> None:
    redact.register("abc")
    redact.register("")
    redact.register(None)
    assert redact.secrets() == []
    assert redact.redact("abc abc") == "abc abc"


def test_authorization_like_values_are_masked_registered_or_not() -> None:
    cases = {
        "Authorization: Bearer eyJhbGciOi.xyz": f"Authorization: Bearer {MASK}",
        '{"x-api-token": "0123456789abcdef"}': f'{{"x-api-token": "{MASK}"}}',
        "GET /v1/deals?api_token=0123456789abcdef&start=0": (
            f"GET /v1/deals?api_token={MASK}&start=0"
        ),
        "sent bearer abcdefghijkl to it": f"sent Bearer {MASK} to it",
        "https://hooks.slack.com/services/T000/B000/XXXX failed": (
            f"https://hooks.slack.com/{MASK} failed"
        ),
    }
    for text, expected in cases.items():
        assert redact.redact(text) == expected
    # the words alone are left alone
    plain = "check the token in $HUBSPOT_TOKEN (token_env); authorization refused"
    assert redact.redact(plain) == plain


def test_log_records_are_redacted_as_they_are_made(caplog: pytest.LogCaptureFixture) -> None:
    redact.install_logging()
    redact.install_logging()  # once is enough; twice changes nothing
    redact.register(TOKEN)
    log = logging.getLogger("funnel.test")
    with caplog.at_level(logging.INFO):
        log.info("pulled with %s", TOKEN)
        try:
            raise RuntimeError(f"the API said {TOKEN}")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text
    assert TOKEN not in text
    assert f"pulled with {MASK}" in text
    assert f"RuntimeError: the API said {MASK}" in text


def test_table_columns_are_redacted_only_when_a_secret_is_there() -> None:
    frame = pl.DataFrame({"reasons": ["ok", "bad"], "original_row": ['{"a": 1}', '{"b": 2}']})
    redact.register(TOKEN)
    assert redact.redact_columns(frame, ["reasons", "original_row"]) is frame
    leaked = frame.with_columns(pl.lit(f'{{"note": "{TOKEN}"}}').alias("original_row"))
    out = redact.redact_columns(leaked, ["reasons", "original_row"])
    assert out.get_column("original_row").to_list() == [f'{{"note": "{MASK}"}}'] * 2
    assert out.get_column("reasons").to_list() == ["ok", "bad"]
