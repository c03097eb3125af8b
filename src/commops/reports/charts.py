"""Vega-Lite charts, drawn offline by the JavaScript bundle that vl-convert-python ships."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

_SNIPPET = """
const specs = JSON.parse(document.getElementById("commops-charts").textContent);
for (const [id, spec] of Object.entries(specs)) {
  const el = document.getElementById(id);
  vegaEmbed(el, spec, {actions: false, renderer: "svg"})
    .then(() => el.setAttribute("data-rendered", "true"))
    .catch((err) => { el.textContent = "Chart could not be drawn: " + err; });
}
"""


@cache
def chart_script() -> str:
    """The bundle (Vega, Vega-Lite, Vega-Embed) plus the code that draws every chart on a page.
    Safe to put inside a <script> element."""
    import vl_convert

    bundle: str = vl_convert.javascript_bundle(_SNIPPET)
    return bundle.replace("</script", "<\\/script")


def specs_json(specs: dict[str, dict[str, Any]]) -> str:
    return json.dumps(specs, ensure_ascii=False, default=str).replace("</", "<\\/")


def _base(title: str, values: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": "container",
        "height": 220,
        "data": {"values": list(values)},
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11}},
    }


def bar_over_time(title: str, rows: Sequence[dict[str, Any]], field: str, label: str,
                  time_unit: str = "yearmonth") -> dict[str, Any]:
    spec = _base(title, [{"period": str(r["period"]), field: r[field]} for r in rows])
    spec.update(
        mark={"type": "bar", "tooltip": True, "color": "#3b6fb6"},
        encoding={
            "x": {"field": "period", "type": "temporal", "timeUnit": time_unit, "title": None},
            "y": {"field": field, "type": "quantitative", "title": label},
        },
    )
    return spec


def lines_over_time(title: str, rows: Sequence[dict[str, Any]], fields: dict[str, str],
                    time_unit: str = "yearmonth") -> dict[str, Any]:
    values = [
        {"period": str(r["period"]), "series": label, "value": r[field]}
        for r in rows for field, label in fields.items()
    ]
    spec = _base(title, values)
    spec.update(
        mark={"type": "line", "point": True, "tooltip": True},
        encoding={
            "x": {"field": "period", "type": "temporal", "timeUnit": time_unit, "title": None},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {"field": "series", "type": "nominal", "title": None,
                      "legend": {"orient": "top"}},
        },
    )
    return spec


def ranking(title: str, rows: Sequence[dict[str, Any]], label: str, field: str) -> dict[str, Any]:
    spec = _base(title, [{"who": r[label], field: r[field]} for r in rows])
    spec["height"] = {"step": 18}
    spec.update(
        mark={"type": "bar", "tooltip": True, "color": "#2f8f5b"},
        encoding={
            "y": {"field": "who", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": field, "type": "quantitative", "title": field.replace("_", " ")},
        },
    )
    return spec
