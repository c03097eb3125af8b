"""Vega-Lite charts, drawn offline by the JavaScript bundle that vl-convert-python ships."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Literal

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
def vega_lite_version() -> str:
    """The newest Vega-Lite that vl-convert ships (e.g. ``6.4``): the page's bundle and every
    spec's ``$schema`` name the same one, so the browser draws what the schema describes."""
    import vl_convert

    versions: list[str] = vl_convert.get_vegalite_versions()
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


@cache
def chart_script() -> str:
    """The bundle (Vega, Vega-Lite, Vega-Embed) plus the code that draws every chart on a page.
    Safe to put inside a <script> element."""
    import vl_convert

    bundle: str = vl_convert.javascript_bundle(_SNIPPET, vl_version=vega_lite_version())
    return bundle.replace("</script", "<\\/script")


def specs_json(specs: dict[str, dict[str, Any]]) -> str:
    return json.dumps(specs, ensure_ascii=False, default=str).replace("</", "<\\/")


def _base(title: str, values: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        # An identifier, never fetched: the page draws offline with the bundled Vega-Lite.
        "$schema": "https://vega.github.io/schema/vega-lite/v"
        f"{vega_lite_version().split('.')[0]}.json",
        "title": title,
        "width": "container",
        "height": 220,
        "data": {"values": list(values)},
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11}},
    }


def _count_axis(values: Iterable[Any], most: int) -> dict[str, Any]:
    """Every measure drawn is a count: no tick at 0.5 commits. At most ``most`` ticks, and no
    more than the largest value, so the step is never below 1 (Vega ignores tickMinStep)."""
    top = max((int(v) for v in values if v is not None), default=0)
    return {"tickCount": max(1, min(top, most))}


# Periods arrive as dates ("2024-03-01"), which browsers read as UTC midnight: bucketing them
# with a local-time unit would move every bar one period back west of Greenwich. Hence the utc
# time units.


def bar_over_time(
    title: str,
    rows: Sequence[dict[str, Any]],
    field: str,
    label: str,
    time_unit: str = "utcyearmonth",
) -> dict[str, Any]:
    spec = _base(title, [{"period": str(r["period"]), field: r[field]} for r in rows])
    spec.update(
        mark={"type": "bar", "tooltip": True, "color": "#3b6fb6"},
        encoding={
            "x": {"field": "period", "type": "temporal", "timeUnit": time_unit, "title": None},
            "y": {
                "field": field,
                "type": "quantitative",
                "title": label,
                "axis": _count_axis((r[field] for r in rows), 5),
            },
        },
    )
    return spec


def lines_over_time(
    title: str,
    rows: Sequence[dict[str, Any]],
    fields: dict[str, str],
    time_unit: str = "utcyearmonth",
) -> dict[str, Any]:
    values = [
        {"period": str(r["period"]), "series": label, "value": r[field]}
        for r in rows
        for field, label in fields.items()
    ]
    spec = _base(title, values)
    spec.update(
        mark={"type": "line", "point": True, "tooltip": True},
        encoding={
            "x": {
                "field": "period",
                "type": "temporal",
                "timeUnit": time_unit,
                "title": None,
                "axis": {"grid": False},  # a line a month would crowd the plot
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": None,
                "axis": _count_axis((v["value"] for v in values), 5),
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "title": None,
                "legend": {"orient": "top"},
            },
        },
    )
    return spec


def ranking(title: str, rows: Sequence[dict[str, Any]], label: str, field: str) -> dict[str, Any]:
    """Bars in the rows' order. Two people can share a name (two members not merged yet), so
    each bar is labelled with its rank: grouping by the bare name would stack them into one."""
    values = [
        {"rank": n, "who": f"{n}. {r[label]}", field: r[field]} for n, r in enumerate(rows, 1)
    ]
    spec = _base(title, values)
    # 18px a bar. A number, not {"step": 18}: with a width that follows the page, a step
    # height makes Vega-Lite warn in the console that it drops "fit-y".
    spec["height"] = 18 * max(len(values), 1)
    spec.update(
        mark={"type": "bar", "tooltip": True, "color": "#2f8f5b"},
        encoding={
            "y": {
                "field": "who",
                "type": "nominal",
                "title": None,
                "sort": {"field": "rank", "order": "ascending"},
            },
            "x": {
                "field": field,
                "type": "quantitative",
                "title": field.replace("_", " "),
                "axis": _count_axis((v[field] for v in values), 8),
            },
        },
    )
    return spec


# A CJK font first among the fallbacks, so that chart titles in Chinese draw in SVG and PDF
# (Debian's fonts-wqy-microhei).
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, DejaVu Sans, sans-serif"
# The d3 locales the reports draw charts in.
ChartLocale = Literal["en-US", "zh-CN"]


def to_svg(spec: dict[str, Any], width: int = 560, locale: ChartLocale = "en-US") -> str:
    """The chart as a standalone SVG (for reports: no script, prints in a PDF). The page width
    ("container") means nothing outside a browser, so the chart gets a fixed one; ``locale``
    (d3's names: en-US, zh-CN) writes the axes' dates and numbers."""
    import vl_convert

    fixed = {**spec, "width": width}
    fixed["config"] = {**spec.get("config", {}), "font": FONT}
    svg: str = vl_convert.vegalite_to_svg(
        fixed,
        vl_version=vega_lite_version(),
        format_locale=locale,
        time_format_locale=locale,
    )
    return svg
