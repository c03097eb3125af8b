"""Every string the web app shows has a Simplified Chinese translation, and the catalogs agree
with each other."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from commops.web import dashboard
from commops.web.i18n import I18N_DIR, load_catalog
from commops.web.models import ROLES, SCOPES

WEB = Path(dashboard.__file__).parent
LITERAL = r"""(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')"""
TEMPLATE_CALL = re.compile(r"\b_\(\s*" + LITERAL + r"\s*[,)]")
PYTHON_CALL = re.compile(r"\b(?:gettext|_)\(\s*" + LITERAL + r"\s*[,)]")
NAV_LABEL = re.compile(r"register_nav\(\s*\"[^\"]*\",\s*" + LITERAL)
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)[sd]|%[sd]")


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def used_messages() -> dict[str, str]:
    """Each literal message and one place that uses it."""
    found: dict[str, str] = {}
    for path in sorted((WEB / "templates").rglob("*.j2")):
        for match in TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(_unescape(match.group(1) or match.group(2)), str(path))
    for path in sorted(WEB.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern in (PYTHON_CALL, NAV_LABEL):
            for match in pattern.finditer(text):
                found.setdefault(_unescape(match.group(1) or match.group(2)), str(path))
    for label in (h[1] for h in _headline_labels()):
        found.setdefault(label, "dashboard.py")
    for word in (*ROLES, *SCOPES):
        found.setdefault(word, "models.py")
    return found


def _headline_labels() -> list[tuple[str, str]]:
    source = Path(dashboard.__file__).read_text(encoding="utf-8")
    return re.findall(r'\(\s*"(\w+)",\s*"([^"]+)",\s*"(?:count|hours|share)"', source)


def test_every_message_has_a_chinese_translation() -> None:
    catalog = load_catalog("zh-CN")
    missing = sorted(
        f"{where}: {msg!r}"
        for msg, where in used_messages().items()
        if catalog.get(msg) is None or not catalog.get(msg).string
    )
    assert missing == []


def test_catalogs_agree_and_keep_placeholders() -> None:
    seen: dict[str, tuple[str, str]] = {}
    problems = []
    files = sorted((I18N_DIR / "zh_CN").glob("*.po"))
    assert files
    for path in files:
        with path.open("rb") as f:
            catalog = read_po(f, locale="zh_CN")
        for message in catalog:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            text = message.string if isinstance(message.string, str) else message.string[0]
            if not text:
                problems.append(f"{path.name}: {msgid!r} has no translation")
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(
                    f"{path.name}: {msgid!r} and its translation differ in placeholders"
                )
            if msgid in seen and seen[msgid][1] != text:
                problems.append(f"{path.name} and {seen[msgid][0]} translate {msgid!r} differently")
            seen.setdefault(msgid, (path.name, text))
    assert problems == []


def test_the_headline_labels_are_found() -> None:
    assert len(_headline_labels()) == 8
