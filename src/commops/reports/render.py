"""Turning report data into Markdown, HTML and PDF, through Jinja2 templates that a workspace
can override: a file in the workspace's template folder (``[reports] template_dir``) with the
name of a built-in template is used instead of it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
)

from commops import __version__
from commops.errors import ConfigError
from commops.reports import charts
from commops.reports.data import Figure, NewsletterData, ReportData, all_figures
from commops.reports.i18n import Formatter, translations
from commops.workspace import Workspace

FORMATS = ("html", "pdf", "md")
# The built-in templates; a workspace overrides any of them by name.
TEMPLATES = {
    ("report", "html"): "report.html.j2",
    ("report", "md"): "report.md.j2",
    ("newsletter", "html"): "newsletter.html.j2",
    ("newsletter", "md"): "newsletter.md.j2",
}
# Where the figures travel inside each format (the tests and auditors read them back).
FIGURES_ID = "commops-figures"
MD_FIGURES = "<!-- commops-figures "


def template_dir(ws: Workspace) -> Path:
    return ws.root / ws.config.reports_template_dir


def environment(ws: Workspace | None, lang: str, *, html: bool) -> Environment:
    loaders: list[Any] = []
    if ws is not None:
        loaders.append(FileSystemLoader(str(template_dir(ws))))
    loaders.append(PackageLoader("commops.reports", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=html,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    fmt = Formatter(lang)
    env.filters["num"] = fmt.number
    env.filters["share"] = fmt.share
    env.filters["change"] = fmt.change
    env.filters["day"] = fmt.date
    env.filters["md"] = _md_escape
    env.globals["fmt"] = fmt
    env.globals["fig"] = lambda f, unit="": _figure(f, fmt, unit, html)
    return env


def _md_escape(text: object) -> str:
    """Text from the data (a title, a name) that Markdown must not read as markup."""
    out = str(text).replace("\\", "\\\\")
    for ch in "*_`[]<>|":
        out = out.replace(ch, "\\" + ch)
    if out.startswith("#"):  # a heading only at the start of a line
        out = "\\" + out
    return out.replace("\n", " ")


def _figure(f: Figure, fmt: Formatter, unit: str, html: bool) -> Any:
    text = fmt.value(f.value, unit)
    if not html:
        return text
    from markupsafe import Markup, escape

    key = escape(json.dumps(f.key, ensure_ascii=False, sort_keys=True))
    return Markup(
        f'<span class="fig" data-metric="{escape(f.metric)}" data-column="{escape(f.column)}" '
        f'data-key="{key}">{escape(text)}</span>'
    )


def _figures_json(figures: list[Figure]) -> str:
    return json.dumps(all_figures(figures), ensure_ascii=False, sort_keys=True).replace(
        "</", "<\\/"
    )


def _img(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# The charts' d3 locale for each report language.
CHART_LOCALES: dict[str, charts.ChartLocale] = {"en": "en-US", "zh-CN": "zh-CN"}


def report_charts(
    data: ReportData, gettext: Callable[[str], str], lang: str = "en"
) -> dict[str, str]:
    """The report's charts as SVG data URIs, by id."""
    specs: dict[str, dict[str, Any]] = {}
    if data.trend:
        specs["contributors"] = charts.lines_over_time(
            gettext("Contributors per month"),
            data.trend,
            {
                "active_contributors": gettext("Active contributors"),
                "new_contributors": gettext("New contributors"),
            },
        )
        specs["stars"] = charts.bar_over_time(
            gettext("New stars per month"), data.trend, "new_stars", gettext("New stars")
        )
    top = [
        {"display_name": p.name, "contributions": p.figures["contributions"].value}
        for p in data.top_contributors
    ]
    if top:
        specs["top"] = charts.ranking(
            gettext("Top contributors by contributions"), top, "display_name", "contributions"
        )
    locale = CHART_LOCALES[lang]
    return {k: _img(charts.to_svg(spec, locale=locale)) for k, spec in specs.items()}


def _context(ws: Workspace | None, lang: str, generated_at: datetime) -> dict[str, Any]:
    return {
        "lang": lang,
        "version": __version__,
        "generated": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "workspace": ws.root.name if ws is not None else "",
    }


def render_report(
    ws: Workspace | None, data: ReportData, lang: str, fmt: str, generated_at: datetime
) -> bytes:
    """The monthly or annual report in one format."""
    f = Formatter(lang)
    title = f.period_title(data.kind, data.period.label, data.period.start, data.period.end)
    ctx = {
        **_context(ws, lang, generated_at),
        "d": data,
        "title": title,
        "previous_title": f.period_title(
            data.kind, data.previous.label, data.previous.start, data.previous.end
        ),
        "year_ago_title": f.period_title(
            data.kind, data.year_ago.label, data.year_ago.start, data.year_ago.end
        ),
    }
    return _render(
        ws, "report", ctx, data.figures, lang, fmt, lambda g: report_charts(data, g, lang)
    )


def render_newsletter(
    ws: Workspace | None, data: NewsletterData, lang: str, fmt: str, generated_at: datetime
) -> bytes:
    f = Formatter(lang)
    p = data.period
    ctx = {
        **_context(ws, lang, generated_at),
        "n": data,
        "title": f.period_title("weekly", p.label, p.start, p.end),
        "dates": f"{f.date(p.start)} – {f.date(p.end)}",
    }
    return _render(ws, "newsletter", ctx, data.figures, lang, fmt, lambda g: {})


def _render(
    ws: Workspace | None,
    name: str,
    ctx: dict[str, Any],
    figures: list[Figure],
    lang: str,
    fmt: str,
    make_charts: Callable[[Callable[[str], str]], dict[str, str]],
) -> bytes:
    if fmt == "md":
        env = environment(ws, lang, html=False)
        text = _fill(env, TEMPLATES[name, "md"], ctx)
        text = text.rstrip("\n") + "\n\n" + MD_FIGURES + _figures_json(figures) + " -->\n"
        return text.encode("utf-8")
    env = environment(ws, lang, html=True)
    html = _fill(
        env,
        TEMPLATES[name, "html"],
        {
            **ctx,
            "charts": make_charts(translations(lang).gettext),
            "figures_json": _figures_json(figures),
            "figures_id": FIGURES_ID,
            "pdf": fmt == "pdf",
        },
    )
    if fmt == "html":
        return html.encode("utf-8")
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html, base_url=str(ws.root) if ws is not None else None).write_pdf()
    return pdf


def _fill(env: Environment, name: str, ctx: dict[str, Any]) -> str:
    """The template rendered; a mistake in it (most likely in a workspace's own template) is a
    ``ConfigError`` naming the file and the line."""
    template: Template | None = None
    try:
        template = env.get_template(name)
        return template.render(**ctx)
    except TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name or name} line {exc.lineno}"
        raise ConfigError(f"template {where}: {exc.message}", hint=_HINT) from None
    except TemplateError as exc:
        where = (template.filename if template is not None else None) or name
        line = _template_line(exc, where)
        at = f"{where} line {line}" if line is not None else where
        raise ConfigError(f"template {at}: {exc}", hint=_HINT) from None


_HINT = (
    "Fix the template, or delete it from the workspace's template folder to use the built-in one."
)


def _template_line(exc: BaseException, filename: str) -> int | None:
    """Jinja2 rewrites tracebacks so that a template's frames carry its file and line."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def read_figures(text: str) -> list[dict[str, Any]]:
    """The figures embedded in a rendered HTML or Markdown report."""
    if MD_FIGURES in text:
        body = text.split(MD_FIGURES, 1)[1].rsplit(" -->", 1)[0]
        return list(json.loads(body))
    marker = f'<script type="application/json" id="{FIGURES_ID}">'
    body = text.split(marker, 1)[1].split("</script>", 1)[0]
    return list(json.loads(body.replace("<\\/", "</")))
