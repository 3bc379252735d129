"""Run an entity's checks as a great-expectations suite and say which rows failed which check."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import pyarrow as pa

from funnel.errors import FunnelError
from funnel.quality.checks import Check

#: The range datetime64[ns] holds; timestamps beyond it are clipped to it for the checks.
NS_MIN, NS_MAX = datetime(1678, 1, 1), datetime(2262, 1, 1)
FAILURE_SCHEMA = {"_gid": pl.Int64, "check": pl.String, "severity": pl.String}


@dataclass(frozen=True)
class SuiteResult:
    """Per check: the great-expectations verdict; per failing row: (_gid, check, severity)."""

    failures: pl.DataFrame
    exceptions: tuple[str, ...]


#: Imported by great-expectations at its import for expectations and metrics no suite here uses
#: (KL divergence, KS tests), and only called inside them: deferred to first use.
DEFERRED_MODULES = ("scipy.stats",)
_importing = threading.Lock()
#: Guards `_preloading` alone: a second preload must return at once, not wait for the import.
_preload_lock = threading.Lock()
_preloading = False


def _defer(name: str) -> None:
    """Put module `name` in sys.modules unexecuted: it runs on its first attribute access
    (importlib's LazyLoader), so a module-level `from scipy import stats` costs nothing."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def import_great_expectations() -> Any:
    """great-expectations, imported once (the import costs seconds; the nightly flow starts it
    in a background thread), with the modules it only needs for unused checks deferred."""
    with _importing:
        if "great_expectations" not in sys.modules:
            for name in DEFERRED_MODULES:
                _defer(name)
        import great_expectations as gx

        return gx


def preload_great_expectations() -> None:
    """Start importing great-expectations in a background thread (once per process) while the
    caller does other work: the import takes seconds of Python, and the run's reading spends
    its time in DuckDB and polars, which release the GIL, and in waiting on the Prefect server.
    A suite's own import waits for this one to finish (or fails as it would have)."""
    global _preloading
    with _preload_lock:
        if _preloading or "great_expectations" in sys.modules:
            return
        _preloading = True

    def run() -> None:
        with contextlib.suppress(Exception):
            import_great_expectations()

    threading.Thread(target=run, name="preload-great-expectations", daemon=True).start()


def _context() -> Any:
    """An ephemeral great-expectations context (imported lazily: the import costs seconds)."""
    gx = import_great_expectations()
    from great_expectations.execution_engine import pandas_execution_engine

    # great-expectations fingerprints every pandas batch below this size by hashing all of it,
    # twice per validation (a large share of its time), only to note the hash in the result's
    # batch markers, which nothing here reads. Never fingerprint.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    # An ephemeral context serialises its whole configuration to YAML (kept in memory, read by
    # nothing here) each time a datasource, asset or batch definition is added or deleted,
    # several times per batch. Skip that bookkeeping.
    context._save_project_config = lambda *args, **kwargs: None
    return context


def _by_columns(checks: list[Check]) -> dict[tuple[str, ...], list[Check]]:
    """The checks grouped by the columns they read (in the order the checks come)."""
    groups: dict[tuple[str, ...], list[Check]] = {}
    for c in checks:
        cols = tuple(str(v) for k, v in c.kwargs.items() if k in ("column", "column_A", "column_B"))
        groups.setdefault(cols, []).append(c)
    return groups


def _pandas(frame: pl.DataFrame, columns: list[str]) -> Any:
    """Those columns as a pandas frame, timestamps as datetime64[ns]: great-expectations compares
    those vectorised, while any other unit falls back to a Python call per value, far slower.
    Timestamps beyond the ns range are clipped to it; dates become
    timestamps at midnight (compared with the as-of day's end like any timestamp)."""
    picked = frame.select(columns)
    picked = picked.with_columns(
        pl.col(c).cast(pl.Datetime("us")).clip(NS_MIN, NS_MAX).cast(pl.Datetime("ns"))
        for c, t in picked.schema.items()
        if isinstance(t, pl.Datetime | pl.Date)
    )
    return picked.to_pandas(use_pyarrow_extension_array=False)


def run_suite(name: str, frame: pl.DataFrame, checks: list[Check]) -> SuiteResult:
    """Validate `frame` (with a unique `_gid` per row) against `checks` with great-expectations.

    A check whose expectation raised is a pipeline error, never bad data.
    """
    gx = import_great_expectations()

    if frame.is_empty() or not checks:
        return SuiteResult(pl.DataFrame(schema=FAILURE_SCHEMA), ())
    context = _context()
    results = []
    # One batch per set of columns the checks read: great-expectations copies the whole batch
    # for every expectation's unexpected rows, so narrow batches cost far less than one wide one.
    for i, (columns, group) in enumerate(_by_columns(checks).items()):
        # A datasource per batch, dropped once validated: the datasource's execution engine
        # keeps every batch it loaded, so one shared datasource held all the entity's pandas
        # frames at once until the end of the suite.
        source = context.data_sources.add_pandas(f"{name}_frames_{i}")
        batch = (
            source.add_dataframe_asset(name=f"{name}_{i}")
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": _pandas(frame, list(columns))})
        )
        suite = gx.ExpectationSuite(name=f"{name}_{i}")
        for c in group:
            expectation = getattr(gx.expectations, c.expectation)(
                **c.kwargs, meta={"check": c.name}
            )
            suite.add_expectation(expectation)
        suite = context.suites.add(suite)
        # The batch keeps pandas' default index (the row's position in `frame`), so the failing
        # rows come back as that index in one list: naming `_gid` as the index column instead
        # makes great-expectations look each failing row's `_gid` up one Python call at a time.
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        results += result.results
        # The context outlives this call (great-expectations keeps the latest one): drop the
        # datasource, so the batch's pandas frame does not stay in memory for the rest of the run
        del batch, source
        context.data_sources.delete(f"{name}_frames_{i}")
        pa.default_memory_pool().release_unused()  # and pandas' Arrow buffers go back to the OS
    severity = {c.name: c.severity for c in checks}
    failures: list[pl.DataFrame] = []
    exceptions: list[str] = []
    for r in results:
        check = r.expectation_config.meta["check"]
        info = r.exception_info or {}
        if info.get("raised_exception"):
            exceptions.append(f"{name}.{check}: {info.get('exception_message')}")
            continue
        positions = r.result.get("unexpected_index_list") or []
        if positions:
            gids = frame.get_column("_gid").gather(pl.Series(positions, dtype=pl.Int64))
            failures.append(
                pl.DataFrame(
                    {"_gid": gids, "check": check, "severity": severity[check]},
                    schema=FAILURE_SCHEMA,
                )
            )
    if exceptions:
        raise FunnelError("great-expectations failed to evaluate: " + "; ".join(exceptions))
    frames = failures or [pl.DataFrame(schema=FAILURE_SCHEMA)]
    return SuiteResult(pl.concat(frames), tuple(exceptions))
