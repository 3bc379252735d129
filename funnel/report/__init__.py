"""The morning funnel report: one self-contained HTML page with charts, from the published tables.

render.render() builds the page from a warehouse file and render.write_report() replaces a report
atomically; a nightly run stages its report from the build file (render.stage_report) and moves
it onto report.html right after the warehouse (files.publish_report). Sections live in
the sections/ package: one module per question, each function None when its tables are absent.
"""
