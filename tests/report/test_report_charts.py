"""The report's chart specs are valid Vega-Lite (the report itself skips Altair's validation)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import altair as alt
from altair.utils.schemapi import validate_jsonschema

from funnel.config import load_config
from funnel.report.render import render

SPEC = re.compile(r'<script type="application/json" id="(spec-[^"]+)">(.*?)</script>', re.DOTALL)


def test_every_chart_of_the_sample_report_is_valid_vega_lite(sample_project: Path) -> None:
    html = render(load_config(sample_project).warehouse_path)
    specs = SPEC.findall(html)
    assert len(specs) >= 15  # the sample's report has charts in every section
    schema = alt.load_schema()
    for name, text in specs:
        spec = json.loads(text)
        assert spec["datasets"]["table"], name  # each chart has rows
        spec.pop("datasets")  # the rows are plain values; the spec is what the code builds
        validate_jsonschema(spec, schema, rootschema=schema)
