"""The morning funnel report: one self-contained HTML page with charts, from the published tables.

render() builds the page from a warehouse file; write_report() replaces the report atomically.
Sections live in sections.py (one function per question, None when its tables are absent).
"""

from funnel.report.render import render, write_atomic, write_report

__all__ = ["render", "write_atomic", "write_report"]
