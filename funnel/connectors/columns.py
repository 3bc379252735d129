"""Finding a column in an export's header by the spellings a CRM has used for it."""

from __future__ import annotations


def find_column(
    header: list[str], names: tuple[str, ...], prefixes: tuple[str, ...] = ()
) -> str | None:
    """The first of `names` the header has: exactly, else ignoring case and surrounding space,
    else once one of `prefixes` ("Deal - ") is taken off the header's name."""
    folded: dict[str, str] = {}
    bare: dict[str, str] = {}
    for h in header:
        key = h.strip().casefold()
        folded.setdefault(key, h)
        for prefix in prefixes:
            if key.startswith(prefix.casefold()):
                bare.setdefault(key[len(prefix) :].strip(), h)
    for name in names:
        if name in header:
            return name
        key = name.strip().casefold()
        if key in folded:
            return folded[key]
        if key in bare:
            return bare[key]
    return None
