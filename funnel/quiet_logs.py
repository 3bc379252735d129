"""What a run started from the terminal prints of the logs: funnel's warnings, once, and none of
Prefect's or great-expectations' own lines (they stay in the Prefect logs; `--debug` shows
them).

Prefect writes a task's failure with its traceback, then the flow's failure with it again, on
its console handler; the CLI then says the failure once in a block of its own
(funnel.failure_report). So the console handler is set above every level and one plain handler
on the root logger shows what a person needs: funnel's warnings (an alert not delivered) and a
flow's or task's warnings (a run marked abandoned), never an error that the block says better.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: Above CRITICAL: the console handler lets nothing through.
SILENT = logging.CRITICAL + 10
#: Loggers whose warnings and errors a person reads in the terminal.
OURS = ("funnel", "flows", "transforms")
#: Prefect's loggers of a flow run and its task runs: their warnings are shown, their errors are
#: the failure the CLI reports.
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def _under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


class _Shown(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _under(record.name, OURS):
            return record.levelno >= logging.WARNING
        return _under(record.name, RUN_LOGGERS) and record.levelno == logging.WARNING


def silence_prefect_console() -> None:
    """Prefect's console handler shows nothing, in this process and in the temporary server it
    starts (call before Prefect is imported; also applied to a handler already set up)."""
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = str(SILENT)
    for handler in _prefect_consoles():
        handler.setLevel(SILENT)


def _prefect_consoles() -> list[logging.Handler]:
    if "prefect.logging.handlers" not in sys.modules:
        return []
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ("uvicorn", "fastapi"))]
    return [h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)]


@contextmanager
def quiet(debug: bool) -> Iterator[None]:
    """Within: Prefect's and libraries' console lines hidden, funnel's warnings shown plainly
    (`debug`: everything as Prefect shows it). On the way out the flow run's logs are sent to
    the Prefect API while its temporary server still runs ("Error logging to API" otherwise)."""
    if debug:
        yield
        return
    silence_prefect_console()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Plain())
    handler.addFilter(_Shown())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for console in _prefect_consoles():  # a handler set up during the run
            console.setLevel(SILENT)
        _send_logs()
        # a log line that could not be sent after all is in no one's way here
        logging.raiseExceptions = False


class _Plain(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _send_logs() -> None:
    """The logs Prefect still holds, sent now (never raises: the run's own outcome matters)."""
    if "prefect.logging.handlers" not in sys.modules:
        return
    try:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)
    except Exception:
        pass
