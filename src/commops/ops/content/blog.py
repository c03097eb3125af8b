"""Importing an existing blog: a folder of Markdown posts with Hugo-style front matter (YAML
between ``---`` lines, or TOML between ``+++`` lines) becomes content items linked to their
authors.

Fields read: ``title``; ``author`` or ``authors`` (a name, an e-mail, a login, ``Name
<e-mail>``, or a ``{name, email}`` table; one or a list); ``date`` (or ``publishDate``);
``draft``; ``tags`` and ``categories`` (both become tags); ``slug``; ``url``; ``language`` (or
``lang``; else a ``post.zh.md``-style file name; else the import's default); ``summary`` (or
``description``); ``kind`` (else the import's default). ``_index.md`` files (Hugo's section
pages) and files under hidden folders are not posts.

A post that is not a draft becomes a published item on the blog channel, dated by its ``date``;
its authors are credited (``content:authored``). A draft becomes an item in drafting. The
import does not pass posts through community review: it records what the blog already did.

The import is all or nothing: every file is parsed and every author matched before anything is
written. Malformed front matter is an error naming the file and line; authors that match no
member are listed together (``create_members`` makes them members instead, with a ``blog``
identity the resolver can later merge with the person's other handles).

Importing the same folder again updates the items it made instead of adding new ones: an item
is found by the post's path relative to the folder, else by its slug (a post that moved).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the dev tools yet
from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import IdentityRef
from commops.errors import UsageError
from commops.identity.audit import find_member
from commops.identity.bots import BotRules
from commops.identity.registry import IdentityRegistry
from commops.ops import core
from commops.ops.content.credits import sync_credits
from commops.ops.content.items import item_at_url, replace_authors
from commops.ops.content.models import ContentItem, ContentPost, ContentRound
from commops.ops.content.rules import (
    FLOW,
    KIND_HELP,
    KINDS,
    RECORD_TYPE,
    author_ids,
    channel_name,
    language_code,
)
from commops.store.models import Identity

SUFFIXES = (".md", ".markdown")
MAX_LISTED = 20
BLOG_PLATFORM = "blog"
# The blog is the truth about what it published: a post found published moves its item to
# published from any state before it (the usual flow does not apply to what already happened).
IMPORT_FLOW: dict[str, tuple[str, ...]] = {
    state: () if state in ("published", "withdrawn") else ("published",) for state in FLOW
}
_LANG_SUFFIX = re.compile(r"^[a-z]{2}(-[a-z]{2,4})?$", re.IGNORECASE)
_NAME_EMAIL = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<email>[^<>@\s]+@[^<>\s]+)>$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_SPACED_OFFSET = re.compile(r"\s+(Z|[+-]\d{2}(:?\d{2})?)$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML as Hugo reads it, except that timestamps stay text: commops parses dates itself
    so that a bad one is reported with its file and line."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


@dataclass
class AuthorRef:
    text: str  # as written
    name: str | None
    email: str | None
    line: int


@dataclass
class Post:
    path: str  # relative to the folder, with '/'
    line_of: dict[str, int]
    title: str
    authors: list[AuthorRef]
    date: datetime | None
    draft: bool
    tags: list[str]
    categories: list[str]
    slug: str | None
    url: str | None
    language: str
    summary: str | None
    kind: str

    def where(self, key: str) -> str:
        return f"{self.path} line {self.line_of.get(key, 1)}"


@dataclass
class BlogImport:
    folder: str
    posts: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    published: int = 0
    drafts: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    members_created: list[dict[str, Any]] = field(default_factory=list)
    items: list[int] = field(default_factory=list)


# -- parsing ----------------------------------------------------------------------------------


class _PostError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def _split(rel: str, text: str) -> tuple[str, str]:
    """(format, front matter text) of a post, or a _PostError naming the line."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise _PostError(
            f"{rel} line 1", "no front matter: a post starts with '---' (YAML) or '+++' (TOML)"
        )
    opening = lines[0].rstrip()
    if opening not in ("---", "+++"):
        raise _PostError(
            f"{rel} line 1",
            f"no front matter: the file starts with {opening[:40]!r}, not '---' (YAML) or "
            "'+++' (TOML)",
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == opening:
            return ("yaml" if opening == "---" else "toml"), "\n".join(lines[1:index])
    raise _PostError(
        f"{rel} line 1", f"the front matter opened here is never closed (no {opening!r} line)"
    )


def _parse_matter(rel: str, fmt: str, raw: str) -> dict[str, Any]:
    if fmt == "yaml":
        try:
            data = yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise _PostError(
                f"{rel} line {line}", f"malformed YAML front matter: {problem}"
            ) from None
    else:
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = _TOML_AT.search(message)
            if found:
                line = int(found.group(1)) + 1
            elif _TOML_END.search(message):
                line = len(raw.splitlines()) + 1  # the last line of the front matter
            else:
                line = 1
            problem = _TOML_END.sub("", _TOML_AT.sub("", message))
            raise _PostError(
                f"{rel} line {line}", f"malformed TOML front matter: {problem}"
            ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _PostError(
            f"{rel} line 2", f"the front matter is a {type(data).__name__}, not a table of fields"
        )
    return data


def _lines(fmt: str, raw: str) -> dict[str, int]:
    """The file line of each top-level field (the opening delimiter is line 1)."""
    sep = ":" if fmt == "yaml" else "="
    pattern = re.compile(r"^([A-Za-z_][\w-]*)\s*" + re.escape(sep))
    found: dict[str, int] = {}
    for index, line in enumerate(raw.splitlines()):
        match = pattern.match(line)
        if match:
            found.setdefault(match.group(1).lower(), index + 2)
    return found


def _text(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _PostError(where, f"field {key!r}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _list(value: Any, where: str, key: str) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in values:
        text = _text(v, where, key)
        if text and text not in out:
            out.append(text)
    return out


def _when(value: Any, where: str, key: str) -> datetime:
    """A front-matter date as naive UTC (a date alone is midnight UTC)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        # "2024-03-01 10:00:00 +08:00", as YAML allows: no space before the offset for Python
        iso = _SPACED_OFFSET.sub(r"\1", text)
        try:
            parsed = datetime.fromisoformat(iso if "T" in iso else iso.replace(" ", "T", 1))
        except ValueError:
            raise _PostError(
                where,
                f"field {key!r}: {text!r} is not a date "
                "(e.g. 2024-03-01 or 2024-03-01T10:00:00+08:00)",
            ) from None
    else:
        raise _PostError(where, f"field {key!r}: expected a date, got {type(value).__name__}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _author(value: Any, line: int, rel: str) -> AuthorRef:
    where = f"{rel} line {line}"
    if isinstance(value, dict):
        name = _text(value.get("name"), where, "author.name")
        email = _text(value.get("email"), where, "author.email")
        if not name and not email:
            raise _PostError(where, "field 'author': a table without name or email")
        return AuthorRef(text=email or name or "", name=name, email=email, line=line)
    text = _text(value, where, "author")
    if not text:
        raise _PostError(where, "field 'author': an empty author")
    found = _NAME_EMAIL.match(text)
    if found:
        return AuthorRef(text, found.group("name").strip() or None, found.group("email"), line)
    if _EMAIL.match(text):
        return AuthorRef(text, None, text, line)
    return AuthorRef(text, text, None, line)


def parse_post(folder: Path, path: Path, *, default_language: str, default_kind: str) -> Post:
    """One post's front matter, checked, or a _PostError naming file and line."""
    rel = path.relative_to(folder).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _PostError(rel, f"not UTF-8 text (byte {exc.start})") from None
    fmt, raw = _split(rel, text)
    data = {str(k).lower(): v for k, v in _parse_matter(rel, fmt, raw).items()}
    lines = _lines(fmt, raw)

    def where(key: str) -> str:
        return f"{rel} line {lines.get(key, 1)}"

    title = _text(data.get("title"), where("title"), "title")
    if title is None:
        raise _PostError(where("title"), "field 'title': missing (every post has a title)")
    draft_value = data.get("draft", False)
    if not isinstance(draft_value, bool):
        raise _PostError(
            where("draft"), f"field 'draft': expected true or false, got {draft_value!r}"
        )
    key = "authors" if "authors" in data else "author"
    raw_authors = data.get(key)
    listed = raw_authors if isinstance(raw_authors, list) else [raw_authors]
    authors = [_author(a, lines.get(key, 1), rel) for a in listed if a is not None]
    date_key = next((k for k in ("date", "publishdate") if data.get(k) is not None), None)
    when = _when(data[date_key], where(date_key), date_key) if date_key else None
    if when is None and not draft_value:
        raise _PostError(where("date"), "field 'date': missing (a published post needs its date)")
    lang_key = next((k for k in ("language", "lang") if data.get(k) is not None), None)
    if lang_key is not None:
        lang_text = _text(data[lang_key], where(lang_key), lang_key) or ""
        try:
            language = language_code(lang_text, field=lang_key)
        except UsageError as exc:
            raise _PostError(where(lang_key), f"field {exc.message}") from None
    else:
        stem_suffix = Path(path.stem).suffix.lstrip(".")
        language = (
            language_code(stem_suffix) if _LANG_SUFFIX.match(stem_suffix) else default_language
        )
    kind = (_text(data.get("kind"), where("kind"), "kind") or default_kind).lower()
    if kind not in KINDS:
        raise _PostError(where("kind"), f"field 'kind': {kind!r} is not one of: {KIND_HELP}")
    summary_key = "summary" if data.get("summary") is not None else "description"
    tags = _list(data.get("tags"), where("tags"), "tags")
    categories = _list(data.get("categories"), where("categories"), "categories")
    return Post(
        path=rel,
        line_of=lines,
        title=" ".join(title.split())[:500],
        authors=authors,
        date=when,
        draft=draft_value,
        tags=tags,
        categories=categories,
        slug=_text(data.get("slug"), where("slug"), "slug"),
        url=_text(data.get("url"), where("url"), "url"),
        language=language,
        summary=_text(data.get(summary_key), where(summary_key), summary_key),
        kind=kind,
    )


def _posts_in(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        if path.name.split(".")[0] == "_index":
            continue
        found.append(path)
    return found


# -- matching authors -------------------------------------------------------------------------


def _author_key(ref: AuthorRef) -> tuple[str | None, str | None]:
    return (ref.email.lower() if ref.email else None, ref.name)


def _match(session: Session, ref: AuthorRef) -> tuple[int | None, str | None]:
    """(member id, None) when the author is a member; (None, None) when unknown; (None,
    error) when ambiguous."""
    for text in (ref.email, ref.name):
        if not text:
            continue
        try:
            return find_member(session, text), None
        except UsageError as exc:
            if exc.message.startswith("no member or identity"):
                continue
            return None, exc.message
    return None, None


def _create_member(registry: IdentityRegistry, session: Session, ref: AuthorRef) -> int:
    ident = (
        IdentityRef(BLOG_PLATFORM, "email", ref.email.lower(), ref.name)
        if ref.email
        else IdentityRef(BLOG_PLATFORM, "name", ref.name or ref.text, ref.name or ref.text)
    )
    registry.ensure([ident])
    identity = session.get(Identity, registry.id_of(ident))
    assert identity is not None
    return identity.member_id


# -- the import -------------------------------------------------------------------------------


def _raise_all(errors: list[str], what: str, hint: str | None = None) -> None:
    if not errors:
        return
    more = len(errors) - 1
    message = errors[0] + (f" (and {more} more {what}; nothing imported)" if more else "")
    listed = "\n".join(errors[1:MAX_LISTED])
    raise UsageError(message, hint="\n".join(x for x in (listed, hint) if x) or None)


def _address(post: Post, base_url: str | None) -> str | None:
    if post.url and post.url.startswith(("http://", "https://")):
        return post.url
    if base_url is None:
        return None
    base = base_url.rstrip("/") + "/"
    if post.url:
        return urljoin(base, post.url.lstrip("/"))
    stem = Path(post.path).stem
    lang = Path(stem).suffix.lstrip(".")
    if lang and _LANG_SUFFIX.match(lang):  # post.zh.md: the post, in Chinese
        stem = Path(stem).stem
    name = post.slug or (Path(post.path).parent.name if stem == "index" else stem)
    return urljoin(base, name.strip("/") + "/")


def _find_existing(session: Session, key: str, slug: str | None) -> ContentItem | None:
    item = session.execute(
        select(ContentItem).where(ContentItem.import_key == key)
    ).scalar_one_or_none()
    if item is None and slug:
        item = session.execute(
            select(ContentItem)
            .where(ContentItem.slug == slug, ContentItem.import_key.is_not(None))
            .order_by(ContentItem.id)
            .limit(1)
        ).scalar_one_or_none()
    return item


def import_blog(
    session: Session,
    folder: Path,
    *,
    actor: str,
    create_members: bool = False,
    channel: str = "blog",
    language: str = "en",
    kind: str = "article",
    base_url: str | None = None,
    default_author: int | str | None = None,
    bots: BotRules | None = None,
) -> BlogImport:
    """Import the Markdown posts under ``folder`` (see the module docstring)."""
    root = folder.expanduser()
    if not root.is_dir():
        raise UsageError(f"{folder}: not a folder", hint="Give the folder that holds the posts.")
    chan = channel_name(channel)
    lang = language_code(language)
    if kind not in KINDS:
        raise UsageError(f"kind: {kind!r} is not a content kind", hint=f"Kinds: {KIND_HELP}.")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise UsageError(f"base-url: {base_url!r} is not an http(s) URL")
    default_id = (
        core.require_member(session, default_author, field="author")
        if default_author is not None
        else None
    )
    files = _posts_in(root)
    if not files:
        raise UsageError(f"{folder}: no Markdown posts (*.md) in it or its subfolders")

    posts: list[Post] = []
    errors: list[str] = []
    for path in files:
        try:
            posts.append(parse_post(root, path, default_language=lang, default_kind=kind))
        except _PostError as exc:
            errors.append(str(exc))
    _raise_all(errors, "errors")

    by_slug: dict[str, Post] = {}
    for post in posts:
        if not post.authors and default_id is None:
            errors.append(
                f"{post.where('author')}: field 'author': missing (add author or authors, or "
                "give a default author)"
            )
        if post.slug:
            other = by_slug.setdefault(post.slug, post)
            if other is not post:
                errors.append(
                    f"{post.where('slug')}: slug {post.slug!r} is also the slug of "
                    f"{other.where('slug')}"
                )
        address = _address(post, base_url)
        if address is not None and not post.draft:
            owner = item_at_url(session, address)
            existing = _find_existing(session, f"blog:{post.path}", post.slug)
            if owner is not None and (existing is None or owner.id != existing.id):
                errors.append(
                    f"{post.where('url')}: url {address} is already the address of content "
                    f"{owner.id}"
                )
    _raise_all(errors, "errors")

    matched: dict[tuple[str | None, str | None], int] = {}
    unknown: dict[tuple[str | None, str | None], tuple[AuthorRef, list[str]]] = {}
    for post in posts:
        for ref in post.authors:
            key = _author_key(ref)
            if key in unknown:
                unknown[key][1].append(f"{post.path} line {ref.line}")
                continue
            if key in matched:
                continue
            member_id, problem = _match(session, ref)
            if problem is not None:
                errors.append(f"{post.path} line {ref.line}: author {ref.text!r}: {problem}")
            elif member_id is None:
                unknown[key] = (ref, [f"{post.path} line {ref.line}"])
            else:
                matched[key] = member_id
    _raise_all(errors, "errors")
    if unknown and not create_members:
        listed = [f"{ref.text!r} ({', '.join(wheres)})" for ref, wheres in unknown.values()]
        raise UsageError(
            f"{len(unknown)} author{'s match' if len(unknown) > 1 else ' matches'} no member: "
            + "; ".join(listed[:MAX_LISTED])
            + (f" and {len(listed) - MAX_LISTED} more" if len(listed) > MAX_LISTED else ""),
            hint="Fix the names in the posts, add the people as members, or import with "
            "--create-members (nothing was imported).",
        )

    # Everything is known to be valid: write.
    stats = BlogImport(folder=str(folder), posts=len(posts))
    if unknown:
        registry = IdentityRegistry(session, bots or BotRules())
        for key, (ref, _) in unknown.items():
            member_id = _create_member(registry, session, ref)
            matched[key] = member_id
            stats.members_created.append({"member_id": member_id, "author": ref.text})
        registry.flush_names()
    for post in posts:
        member_ids: list[int] = []
        for ref in post.authors:
            member_id = matched[_author_key(ref)]
            if member_id not in member_ids:
                member_ids.append(member_id)
        if not member_ids:
            assert default_id is not None
            member_ids = [default_id]
        _import_post(session, post, member_ids, chan, _address(post, base_url), actor, stats)
    return stats


def _import_post(
    session: Session,
    post: Post,
    member_ids: list[int],
    channel: str,
    address: str | None,
    actor: str,
    stats: BlogImport,
) -> None:
    key = f"blog:{post.path}"
    item = _find_existing(session, key, post.slug)
    stats.published += 0 if post.draft else 1
    stats.drafts += 1 if post.draft else 0
    now = utcnow()
    tags = list(dict.fromkeys([*post.tags, *post.categories]))
    attributes = {"source": "blog", "path": post.path, "categories": post.categories}
    if item is not None and item.deleted_at is not None:
        stats.skipped.append({"path": post.path, "reason": f"content {item.id} is deleted"})
        return
    if item is not None and item.state == "withdrawn":
        stats.skipped.append({"path": post.path, "reason": f"content {item.id} is withdrawn"})
        return
    created = item is None
    changes: dict[str, list[Any]] = {}
    if item is None:
        item = ContentItem(
            kind=post.kind,
            title=post.title,
            state="drafting" if post.draft else "published",
            language=post.language,
            channels=[channel],
            tags=tags,
            slug=post.slug,
            import_key=key,
            summary=post.summary,
            url=None if post.draft else address,
            published_at=None if post.draft else post.date,
            attributes=attributes,
            created_at=post.date or now,
            updated_at=now,
        )
        session.add(item)
        session.flush()
        replace_authors(session, item, member_ids)
        if not post.draft:
            session.add(
                ContentPost(
                    item_id=item.id,
                    channel=channel,
                    state="published",
                    published_at=post.date,
                    url=address,
                    created_at=now,
                )
            )
        session.flush()
        core.record(
            session,
            actor=actor,
            record_type=RECORD_TYPE,
            record_id=item.id,
            action="imported",
            to_state=item.state,
            details={"path": post.path, "authors": member_ids, "channel": channel, "url": address},
            at=post.date,
        )
        stats.created += 1
    else:
        changes = _update(session, item, post, member_ids, tags, attributes, key, channel)
        if not post.draft and (item.state != "published" or _post_changed(item, post, address)):
            changes["published"] = [
                [item.state, item.published_at, item.url],
                ["published", post.date, address if address is not None else item.url],
            ]
            _mark_published(session, item, post, channel, address, actor)
    if changes:
        item.updated_at = now
        core.record(
            session,
            actor=actor,
            record_type=RECORD_TYPE,
            record_id=item.id,
            action="import-updated",
            details={"path": post.path, "changes": _jsonable(changes)},
        )
    if not created:
        stats.updated += 1 if changes else 0
        stats.unchanged += 0 if changes else 1
    sync_credits(session, item)
    stats.items.append(item.id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _update(
    session: Session,
    item: ContentItem,
    post: Post,
    member_ids: list[int],
    tags: list[str],
    attributes: dict[str, Any],
    key: str,
    channel: str,
) -> dict[str, list[Any]]:
    new: dict[str, Any] = {
        "title": post.title,
        "kind": post.kind,
        "language": post.language,
        "tags": tags,
        "slug": post.slug,
        "summary": post.summary,
        "import_key": key,
        "attributes": {**(item.attributes or {}), **attributes},
    }
    if channel not in (item.channels or []):
        new["channels"] = [*(item.channels or []), channel]
    changes: dict[str, list[Any]] = {}
    for name, value in new.items():
        before = getattr(item, name)
        if before != value:
            changes[name] = [before, value]
            setattr(item, name, value)
    before_authors = author_ids(session, item.id)
    if before_authors != member_ids:
        replace_authors(session, item, member_ids)
        changes["authors"] = [before_authors, member_ids]
    return changes


def _post_changed(item: ContentItem, post: Post, address: str | None) -> bool:
    return item.published_at != post.date or (address is not None and item.url != address)


def _mark_published(
    session: Session,
    item: ContentItem,
    post: Post,
    channel: str,
    address: str | None,
    actor: str,
) -> None:
    """The blog published the post: its item becomes published (from any state before) on the
    blog channel, dated by the post. Checked against IMPORT_FLOW, logged as imported."""
    assert post.date is not None
    if item.state != "published":
        core.check_transition(f"content {item.id}", item.state, "published", IMPORT_FLOW)
    blog_post = session.execute(
        select(ContentPost).where(ContentPost.item_id == item.id, ContentPost.channel == channel)
    ).scalar_one_or_none()
    if blog_post is None:
        blog_post = ContentPost(item_id=item.id, channel=channel, created_at=utcnow())
        session.add(blog_post)
    blog_post.state, blog_post.published_at = "published", post.date
    if address is not None:
        blog_post.url = address
    rnd = session.execute(
        select(ContentRound).where(ContentRound.item_id == item.id, ContentRound.outcome == "open")
    ).scalar_one_or_none()
    if rnd is not None:
        rnd.outcome, rnd.closed_at = "imported", utcnow()
    item.published_at = post.date
    item.url = address if address is not None else item.url
    session.flush()
    if item.state != "published":
        before = item.state
        item.state = "published"
        core.record(
            session,
            actor=actor,
            record_type=RECORD_TYPE,
            record_id=item.id,
            action="imported",
            from_state=before,
            to_state="published",
            details={"path": post.path, "channel": channel, "url": address},
            at=post.date,
        )
