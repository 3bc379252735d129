"""Run the SQL models under sql/ in dependency order on a DuckDB connection, then the audits.

A model is one `.sql` file holding one SELECT; its name is the file name and its layer the folder
(`staging`, `intermediate`, `marts`). The order comes from the SQL itself: a model depends on every
other model whose name it mentions as a whole word (comments and string literals ignored), and a
layer only reads its own or earlier layers. Staging models become temporary views (light renames
and casts, read where used); an intermediate model a temporary table when two or more models read
it (computed once), else a temporary view; marts tables in the connection's default database.
An audit (`sql/audits/*.sql`) is a query returning offending rows: zero rows means it passes.

The caller sets the variables `as_of` and `run_id` and provides the raw_*, log_* and cfg_* tables
(or views) the staging models read.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from funnel.errors import FunnelError

#: The models: sql/ beside the package in a checkout; an installed wheel carries them inside the
#: package as funnel/sql (pyproject.toml, force-include).
_PACKAGED = Path(__file__).resolve().parent / "sql"
SQL_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[1] / "sql"
AUDIT_DIR = SQL_DIR / "audits"
#: The model layers in build order; a model may read its own layer or an earlier one.
LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
#: Folders under sql/ that hold no models.
NON_MODEL_DIRS: frozenset[str] = frozenset({"audits"})

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Order matters: a quote inside a comment or a `--` inside a string must not start anything.
_LEXEME = re.compile(
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<ident>\"(?:[^\"]|\"\")*\")"
    r"|(?P<line_comment>--[^\n]*)"
    r"|(?P<block_comment>/\*.*?\*/)",
    re.DOTALL,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# `with name as (`, `, name (a, b) as materialized (`: a CTE, which shadows a model of that name.
_CTE = re.compile(
    r"(?:\bwith|\brecursive|,)\s*([A-Za-z_][A-Za-z0-9_$]*)\s*(?:\([^()]*\))?"
    r"\s*\bas\s+(?:not\s+)?(?:materialized\s+)?\(",
    re.IGNORECASE,
)


class ModelError(FunnelError):
    """A model or audit failed in DuckDB, or the model files are inconsistent."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Model:
    """One SQL model: its name (= file name), layer (= folder), SQL and the models it reads."""

    name: str
    layer: str
    path: Path
    sql: str
    depends_on: frozenset[str]

    @property
    def is_mart(self) -> bool:
        return self.layer == "marts"


def strip_comments_and_strings(sql: str) -> str:
    """The SQL without comments and string literals; quoted identifiers keep their text."""

    def keep(match: re.Match[str]) -> str:
        if match.lastgroup == "ident":
            return " " + match.group()[1:-1].replace('""', '"') + " "
        return " "

    return _LEXEME.sub(keep, sql)


def referenced_names(sql: str) -> set[str]:
    """Identifier-like words of the SQL (lowercase) that may name a model.

    Comments and string literals are ignored, and so are the names the query defines itself as
    common table expressions (a CTE shadows a model of the same name).
    """
    code = strip_comments_and_strings(sql)
    ctes = {name.lower() for name in _CTE.findall(code)}
    return {w.lower() for w in _WORD.findall(code)} - ctes


def _model_files(sql_dir: Path) -> list[tuple[str, str, Path]]:
    files: list[tuple[str, str, Path]] = []
    for path in sorted(sql_dir.rglob("*.sql")):
        parts = path.relative_to(sql_dir).parts
        if parts[0] in NON_MODEL_DIRS:
            continue
        if len(parts) != 2 or parts[0] not in LAYERS:
            raise ValueError(
                f"{path}: not in a model layer folder (expected sql/<layer>/<model>.sql with "
                f"layer one of {', '.join(LAYERS)})"
            )
        name = path.stem
        if not _NAME.fullmatch(name):
            raise ValueError(f"{path}: model name {name!r} is not a lowercase SQL identifier")
        files.append((name, parts[0], path))
    return files


def _order_layer(layer: str, models: dict[str, Model]) -> list[Model]:
    """Topological order of one layer's models (Kahn, ties by name); cycles raise ValueError."""
    waiting = {m.name: {d for d in m.depends_on if d in models} for m in models.values()}
    ready = [name for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    ordered: list[Model] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(models[name])
        del waiting[name]
        for other, deps in waiting.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, other)
    if waiting:
        files = ", ".join(str(models[n].path) for n in sorted(waiting))
        raise ValueError(f"dependency cycle among {layer} models: {files}")
    return ordered


def discover(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model under sql_dir, in build order (layer by layer, dependencies first)."""
    files = _model_files(sql_dir)
    seen: dict[str, Path] = {}
    for name, _, path in files:
        if name in seen:
            raise ValueError(f"{path}: model {name!r} is also defined in {seen[name]}")
        seen[name] = path
    layer_of = {name: layer for name, layer, _ in files}

    by_layer: dict[str, dict[str, Model]] = {layer: {} for layer in LAYERS}
    for name, layer, path in files:
        sql = path.read_text(encoding="utf-8")
        deps = frozenset((referenced_names(sql) & layer_of.keys()) - {name})
        later = sorted(d for d in deps if LAYERS.index(layer_of[d]) > LAYERS.index(layer))
        if later:
            raise ValueError(
                f"{path}: a {layer} model may not read later-layer models: "
                + ", ".join(f"{d} ({layer_of[d]})" for d in later)
            )
        by_layer[layer][name] = Model(name, layer, path, sql, deps)

    ordered: list[Model] = []
    for layer in LAYERS:
        ordered += _order_layer(layer, by_layer[layer])
    return ordered


def _body(sql: str) -> str:
    """The model's SELECT without trailing whitespace and semicolons."""
    return sql.rstrip().rstrip(";").rstrip()


def materialization(model: Model, models: list[Model]) -> str:
    """How `model` is built when `models` run: a mart is a table, a staging model a temporary
    view; an intermediate model a temporary table when two or more models read it (computed
    once), else a temporary view (its one reader inlines it, and nothing is written twice)."""
    if model.is_mart:
        return "table"
    if model.layer == "intermediate":
        readers = sum(model.name in m.depends_on for m in models)
        return "temp table" if readers > 1 else "temp view"
    return "temp view"


def run_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None) -> list[str]:
    """Build the models in order; returns the names of the marts (tables) built."""
    models = discover() if models is None else models
    marts: list[str] = []
    for model in models:
        kind = materialization(model, models)
        statement = f"create or replace {kind} {model.name} as\n{_body(model.sql)}\n"
        try:
            con.execute(statement)
        except duckdb.Error as exc:
            raise ModelError(model.path, f"model {model.name} failed: {exc}") from exc
        if model.is_mart:
            marts.append(model.name)
    return marts


def run_audits(con: duckdb.DuckDBPyConnection, audit_dir: Path = AUDIT_DIR) -> dict[str, int]:
    """Run every audit query; audit name (file name) -> number of offending rows (0 = pass)."""
    counts: dict[str, int] = {}
    if not audit_dir.is_dir():
        return counts
    for path in sorted(audit_dir.glob("*.sql")):
        query = f"select count(*) from (\n{_body(path.read_text(encoding='utf-8'))}\n) as audit"
        try:
            row = con.execute(query).fetchone()
        except duckdb.Error as exc:
            raise ModelError(path, f"audit {path.stem} failed: {exc}") from exc
        counts[path.stem] = int(row[0]) if row else 0
    return counts
