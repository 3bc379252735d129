"""Build the report page from a warehouse file and write it atomically."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import jinja2

from funnel.errors import ConfigError, FunnelError
from funnel.report import files
from funnel.report.banners import banners
from funnel.report.model import Context
from funnel.report.sections import build_sections

#: The Vega-Lite version of Altair's schema ('v6.4.1' -> 'v6_4'), in vl-convert's spelling.
VL_VERSION = "_".join(alt.SCHEMA_VERSION.split(".")[:2])


@functools.cache
def _bundle() -> tuple[str, dict[str, str]]:
    """vega-embed, Vega and Vega-Lite as one script (vl-convert ships them; no network)."""
    import vl_convert

    versions = {
        "vega_version": vl_convert.get_vega_version(),
        "vega_embed_version": vl_convert.get_vega_embed_version(),
        "vegalite_version": VL_VERSION.removeprefix("v").replace("_", "."),
    }
    bundle = _cached_bundle(bundle_cache_dir(), version("vl-convert-python"))
    # `</script` inside the bundle would end the inline script early (`<\/` reads the same in
    # JS strings and regular expressions)
    return re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE), versions


def warm_bundle_cache() -> None:
    """Build and store the script bundle now, if no earlier run has (see `_cached_bundle`)."""
    _bundle()


def bundle_cache_dir() -> Path:
    """Where the script bundle is kept between runs: $FUNNEL_CACHE_DIR, else funnel/ in the
    user's cache folder ($XDG_CACHE_HOME, else ~/.cache)."""
    if own := os.environ.get("FUNNEL_CACHE_DIR"):
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "funnel"


def _cached_bundle(cache_dir: Path, vl_convert_version: str) -> str:
    """vl-convert's script bundle, read from `cache_dir` when a run of this vl-convert and
    Vega-Lite version stored it there. Building it starts vl-convert's JavaScript runtime: a good
    part of every run's report step, for the same text each time. A cache that cannot be read
    or written is rebuilt and the bundle returned all the same."""
    import vl_convert

    path = cache_dir / f"vega-bundle-{vl_convert_version}-{VL_VERSION}.js"
    try:
        if stored := path.read_text(encoding="utf-8"):
            return stored
    except (OSError, UnicodeError):
        pass
    # the stub says `snippet` is required; at run time it defaults to the globals we use
    bundle: str = vl_convert.javascript_bundle(vl_version=VL_VERSION)  # type: ignore[call-arg]
    with contextlib.suppress(OSError):  # a read-only home: the next run builds it again
        files.write_atomic(bundle, path)
    return bundle


def _spec_json(spec: dict[str, Any]) -> str:
    """JSON safe inside <script type="application/json">."""
    text = json.dumps(spec, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("funnel.report", "."),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["spec_json"] = lambda spec: jinja2.utils.markupsafe.Markup(_spec_json(spec))
    return env.get_template("page.html.j2")


def _tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def _currencies(con: duckdb.DuckDBPyConnection) -> list[str | None]:
    """The currencies of the money tables (funnel_metrics_daily.currency), the one with the
    most opportunities (closed or open on the warehouse's day) first."""
    rows = con.execute(
        """
        select currency from funnel_metrics_daily
        where day = (select max(day) from funnel_metrics_daily) and trailing_window = 'all'
        group by currency order by sum(won + lost + open_count) desc, currency nulls last
        """
    ).fetchall()
    return [r[0] for r in rows]


def _amounts(ctx: Context) -> str:
    """What the page says about its amounts' currency."""
    if ctx.per_currency:
        others = ", ".join(c or "no currency" for c in ctx.currencies if c != ctx.currency)
        return (
            f"amounts per currency, never converted or added up (no [currency] reporting): the"
            f" figures are those of the opportunities in {ctx.currency or 'no currency'};"
            f" {others} are in the tables' rows of their currency"
        )
    if ctx.currency is None:
        return "amounts as recorded (the sources name no currency)"
    converted = (
        "opportunities" in ctx.tables
        and ctx.con.execute(
            "select bool_or(reporting_currency is not null) from opportunities"
        ).fetchall()[0][0]
    )
    return f"amounts in {ctx.currency}" + (" (converted at exchange_rates)" if converted else "")


def warehouse_day(con: duckdb.DuckDBPyConnection) -> date:
    """The warehouse's as-of day: the last day of its day spine (funnel_metrics_daily)."""
    try:
        (day,) = con.execute("select max(day) from funnel_metrics_daily").fetchall()[0]
    except duckdb.CatalogException as e:
        raise FunnelError("the warehouse has no funnel_metrics_daily table") from e
    if day is None:
        raise FunnelError("funnel_metrics_daily is empty: the warehouse has no day to report")
    assert isinstance(day, date)
    return day


def render(warehouse: Path, as_of: date | None = None, shown_path: Path | None = None) -> str:
    """The whole page for one day (default: the warehouse's as-of day), as HTML text.

    warehouse: the file to read (the published warehouse, or a run's closed build file);
    shown_path: the path the page tells analysts to open (default: warehouse).
    """
    if not warehouse.is_file():
        raise ConfigError(f"no warehouse at {warehouse}: run `funnel run` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        last = warehouse_day(con)
        (first,) = con.execute("select min(day) from funnel_metrics_daily").fetchall()[0]
        day = as_of or last
        if not first <= day <= last:
            raise ConfigError(f"--as-of {day}: the warehouse {warehouse} has days {first}..{last}")
        tables = _tables(con)
        currencies = _currencies(con)
        ctx = Context(
            con=con,
            as_of=day,
            warehouse_day=last,
            warehouse_path=shown_path or warehouse,
            tables=tables,
            currency=currencies[0] if currencies else None,
            currencies=tuple(currencies),
        )
        sections = build_sections(ctx)
        warnings = banners(ctx)
        amounts = _amounts(ctx)
    bundle, versions = _bundle()
    subtitle = f"warehouse {ctx.warehouse_path} (its as-of day {last}) · {amounts}"
    footer = f"generated {datetime.now():%Y-%m-%d %H:%M} by funnel report from the published tables"
    return _template().render(
        as_of=day,
        subtitle=subtitle,
        footer=footer,
        banners=warnings,
        sections=sections,
        bundle=jinja2.utils.markupsafe.Markup(bundle),
        **versions,
    )


def write_report(
    warehouse: Path, out: Path, as_of: date | None = None, shown_path: Path | None = None
) -> Path:
    """Render the report of `warehouse` and replace `out` with it atomically."""
    files.write_atomic(render(warehouse, as_of, shown_path), out)
    return out


def stage_report(build_file: Path, target: Path, published: Path, run_id: str) -> Path:
    """A run's report, rendered from its closed build file into a file beside `target`.

    The run moves it onto `target` right after the warehouse (files.publish_report); a failed
    run removes it (files.discard_report). Never touches `target` itself.
    """
    return files.write_staged(render(build_file, shown_path=published), target, run_id)
