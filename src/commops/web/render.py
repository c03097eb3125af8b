"""Server-rendered pages: one Jinja2 environment, the same context on every page."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from commops import __version__
from commops.web.deps import (
    FLASH_COOKIE,
    NAV,
    Ctx,
    json_script,
    languages,
)
from commops.web.i18n import translations

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def render(
    ctx: Ctx,
    template: str,
    *,
    status_code: int,
    charts: Mapping[str, dict[str, Any]] | None,
    context: Mapping[str, Any],
) -> HTMLResponse:
    t = translations(ctx.lang)
    flash = ctx.request.cookies.get(FLASH_COOKIE)
    page = (
        environment()
        .get_template(template)
        .render(
            {
                "request": ctx.request,
                "principal": ctx.principal,
                "lang": ctx.lang,
                "languages": languages(),
                "csrf_token": ctx.csrf_token,
                "_": t.gettext,
                "ngettext": t.ngettext,
                "fmt": ctx.fmt,
                "allows": ctx.allows,
                "nav": [item for item in NAV if item.rule(ctx.principal)],
                "path": ctx.request.url.path,
                "flash": unquote(flash) if flash else None,
                "charts_json": Markup(json_script(dict(charts))) if charts else None,
                **context,
            }
        )
    )
    response = HTMLResponse(page, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    return response
