"""The product team's digest: what users asked for in a window of days.

For the window [since, until] (whole days, UTC) the digest lists

* **new themes**: themes whose first live item was raised in the window;
* **growing themes**: themes with items before the window that gained items in it;
* **items without a theme** raised in the window (to group: ``commops feedback suggest``);
* **overdue themes** at the end of the window (the service level of themes.py).

Themes are ranked by the people they affect, not by items: ``members_new`` (members whose first
item in the theme falls in the window), then ``organizations_new`` (their organisations that
no earlier member of the theme belonged to), then ``items_new``.
``growth`` = members_new / members_before (None when nobody known asked before the window).
Each theme comes with up to ``QUOTES`` quotes (excerpts of its items in the window, one per
person, newest first) and their links.

Rendered as Markdown or HTML through the Jinja2 templates in ``templates/``; text from users is
escaped in both (HTML autoescaping; Markdown: HTML characters and Markdown punctuation), and only
http(s) links become links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.feedback._common import day_start, excerpt, is_web_url, item_link
from commops.ops.feedback.models import FeedbackItem, FeedbackTheme
from commops.ops.feedback.themes import live_items, people, summarize

QUOTES = 3
UNTHEMED_SHOWN = 20
FORMATS = ("markdown", "html")


@dataclass
class Quote:
    item_id: int
    title: str
    text: str
    member: str | None
    organization: str | None
    origin: str
    channel: str | None
    link: str | None
    raised_at: datetime


@dataclass
class DigestTheme:
    id: int
    title: str
    status: str
    product_area: str | None
    owner: str | None
    link: str | None
    items: int
    items_new: int
    members: int
    members_new: int
    members_before: int
    organizations: list[str]
    organizations_new: list[str]
    growth: float | None
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class OverdueTheme:
    id: int
    title: str
    status: str
    owner: str | None
    members: int
    age_days: int
    due: datetime


@dataclass
class Digest:
    since: date
    until: date
    generated_at: datetime
    sla_days: int
    items: int
    members: int
    organizations: list[str]
    new_themes: list[DigestTheme]
    growing_themes: list[DigestTheme]
    unthemed: list[Quote]
    unthemed_total: int
    overdue: list[OverdueTheme]


def _quotes(session: Session, items: list[FeedbackItem], limit: int | None = QUOTES) -> list[Quote]:
    who = people(session, items)
    by_item = {i: p for p in who.values() for i in p.items}
    out: list[Quote] = []
    seen: set[int] = set()
    for item in sorted(items, key=lambda i: (i.raised_at, i.id), reverse=True):
        p = by_item.get(item.id)
        if p is not None:
            if p.member_id in seen:
                continue
            seen.add(p.member_id)
        out.append(
            Quote(
                item_id=item.id,
                title=item.title,
                text=excerpt(item),
                member=p.name if p else None,
                organization=p.organization if p else None,
                origin=item.origin,
                channel=item.channel,
                link=item_link(item),
                raised_at=item.raised_at,
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def build_digest(
    session: Session,
    *,
    since: date,
    until: date | None = None,
    sla_days: int = 30,
    now: datetime | None = None,
) -> Digest:
    """The digest of the window [since, until] (until: today by default)."""
    now = now or utcnow()
    until = until or now.date()
    if since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    start, end = day_start(since), day_start(until + timedelta(days=1))
    themes = list(
        session.execute(
            select(FeedbackTheme)
            .where(FeedbackTheme.deleted_at.is_(None))
            .order_by(FeedbackTheme.id)
        ).scalars()
    )
    by_theme = live_items(session, [t.id for t in themes])
    new: list[DigestTheme] = []
    growing: list[DigestTheme] = []
    for theme in themes:
        upto = [i for i in by_theme[theme.id] if i.raised_at < end]
        before = [i for i in upto if i.raised_at < start]
        inside = [i for i in upto if i.raised_at >= start]
        if not inside:
            continue
        everyone = {m: p for m, p in people(session, upto).items() if not p.is_bot}
        earlier = {m for m, p in people(session, before).items() if not p.is_bot}
        newcomers = [p for m, p in everyone.items() if m not in earlier]
        old_orgs = {everyone[m].organization for m in earlier if m in everyone}
        new_orgs = sorted(
            {p.organization for p in newcomers if p.organization and p.organization not in old_orgs}
        )
        (summary,) = summarize(session, [theme], sla_days=sla_days, now=now)
        entry = DigestTheme(
            id=theme.id,
            title=theme.title,
            status=theme.status,
            product_area=theme.product_area,
            owner=summary.owner,
            link=theme.link,
            items=len(upto),
            items_new=len(inside),
            members=len(everyone),
            members_new=len(newcomers),
            members_before=len(earlier),
            organizations=sorted({p.organization for p in everyone.values() if p.organization}),
            organizations_new=new_orgs,
            growth=(len(newcomers) / len(earlier)) if earlier else None,
            quotes=_quotes(session, inside),
        )
        (growing if before else new).append(entry)
    rank = lambda t: (-t.members_new, -len(t.organizations_new), -t.items_new, t.id)  # noqa: E731
    live_ids = {t.id for t in themes}
    window = list(
        session.execute(
            select(FeedbackItem)
            .where(
                FeedbackItem.deleted_at.is_(None),
                FeedbackItem.raised_at >= start,
                FeedbackItem.raised_at < end,
            )
            .order_by(FeedbackItem.raised_at.desc(), FeedbackItem.id.desc())
        ).scalars()
    )
    loose = [i for i in window if i.theme_id not in live_ids]
    everyone_in_window = {m: p for m, p in people(session, window).items() if not p.is_bot}
    at_end = min(now, end)
    overdue = [
        OverdueTheme(s.id, s.title, s.status, s.owner, s.members, s.age_days, s.due)
        for s in summarize(session, themes, sla_days=sla_days, now=at_end)
        if s.overdue
    ]
    overdue.sort(key=lambda o: (-o.members, -o.age_days, o.id))
    return Digest(
        since=since,
        until=until,
        generated_at=now,
        sla_days=sla_days,
        items=len(window),
        members=len(everyone_in_window),
        organizations=sorted(
            {p.organization for p in everyone_in_window.values() if p.organization}
        ),
        new_themes=sorted(new, key=rank),
        growing_themes=sorted(growing, key=rank),
        unthemed=_quotes(session, loose, limit=None)[:UNTHEMED_SHOWN],
        unthemed_total=len(loose),
        overdue=overdue,
    )


# -- rendering ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~>])")


def md_text(value: Any) -> str:
    """Text from users made inert in Markdown: HTML characters as entities, Markdown
    punctuation backslash-escaped, all on one line."""
    text = " ".join(str(value if value is not None else "").split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def web_url(value: Any) -> str | None:
    """The value when it is an http(s) URL (the only links rendered), else None."""
    return str(value) if isinstance(value, str) and is_web_url(value) else None


def md_url(value: str) -> str:
    return quote(value, safe=":/?#@!$&'*+,;=%~-._")


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("commops.ops.feedback", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_text
    env.filters["web_url"] = web_url
    env.filters["md_url"] = md_url
    env.filters["pct"] = lambda v: "" if v is None else f"{round(v * 100)}%"
    env.filters["day"] = lambda v: v.strftime("%Y-%m-%d")
    return env


def render(digest: Digest, fmt: str = "markdown") -> str:
    """The digest as Markdown or as a standalone HTML page."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use markdown or html")
    name = "digest.html.j2" if fmt == "html" else "digest.md.j2"
    return _env(fmt == "html").get_template(name).render(d=digest)
