"""The hardening keys of the config (issue 20): safe source names, value ranges that stay
errors, the volume guard and page bounds, and secrets registered for redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel import redact
from funnel.config import load_config
from funnel.errors import ConfigError

BASE = """
[[sources]]
name = "{name}"
entity = "opportunities"
path = "deals.csv"
{extra}
"""


def _config(tmp_path: Path, name: str = "deals", extra: str = "", tail: str = "") -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(BASE.format(name=name, extra=extra) + tail)
    return path


@pytest.mark.parametrize("name", ["crm/leads", "../x", "a b", "x'y", "-lead", "", "a" * 65])
def test_unsafe_source_names_are_config_errors(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=r"funnel.toml: sources\[.*\]\.name: "):
        load_config(_config(tmp_path, name))


@pytest.mark.parametrize("name", ["deals", "hs_deals", "crm-2024.leads", "A1"])
def test_safe_source_names_load(tmp_path: Path, name: str) -> None:
    assert load_config(_config(tmp_path, name)).sources[0].name == name


def test_defaults_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path))
    v = cfg.validation
    assert (v.max_row_drop, v.max_amount, v.date_horizon_days) == (0.5, 1e12, 3650)
    assert (cfg.sources[0].max_row_drop, cfg.sources[0].max_pages) == (None, 10_000)
    cfg = load_config(
        _config(
            tmp_path,
            extra="max_row_drop = 1.0",
            tail="[validation]\nmax_row_drop = 0.2\nmax_amount = 5e9\ndate_horizon_days = 400\n",
        )
    )
    assert (cfg.validation.max_row_drop, cfg.sources[0].max_row_drop) == (0.2, 1.0)
    assert (cfg.validation.max_amount, cfg.validation.date_horizon_days) == (5e9, 400)


@pytest.mark.parametrize(
    ("tail", "key"),
    [
        ('[validation]\nseverity = { amount_in_range = "off" }\n', "validation.severity"),
        ('[validation]\nseverity = { probability_in_range = "warn" }\n', "validation.severity"),
        ("[validation]\nmax_amount = 1e17\n", "validation.max_amount"),
        ("[validation]\nmax_row_drop = 1.5\n", "validation.max_row_drop"),
    ],
)
def test_guards_cannot_be_switched_off_or_widened_past_the_types(
    tmp_path: Path, tail: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=f"funnel.toml: {key}: "):
        load_config(_config(tmp_path, tail=tail))


def test_configured_secrets_are_registered_for_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redact.forget_all()
    monkeypatch.setenv("HS_TOKEN", "pat-na1-registered-1")
    monkeypatch.setenv("HOOK", "https://example.test/hooks/abc-secret")
    path = tmp_path / "funnel.toml"
    path.write_text(
        '[[sources]]\nname = "hs"\nentity = "opportunities"\nformat = "hubspot_api"\n'
        'token_env = "HS_TOKEN"\n[alerts]\nwebhook_url_env = "HOOK"\n'
    )
    load_config(path)
    assert redact.redact("pat-na1-registered-1 https://example.test/hooks/abc-secret") == (
        f"{redact.MASK} {redact.MASK}"
    )
    redact.forget_all()
