"""Errors that map to `funnel run` exit codes (CONTRACT.md)."""

from __future__ import annotations


class FunnelError(Exception):
    """Any failure of a run; exit code 1."""

    exit_code = 1


class ConfigError(FunnelError):
    """The command or config is wrong; the message names the file, key or column. Exit 2."""

    exit_code = 2


class DataQualityError(FunnelError):
    """A blocking data-quality gate failed; nothing was published. Exit 3."""

    exit_code = 3
