"""Normalising names, e-mails and logins so that one person's handles compare equal.

Names are folded (Unicode NFKC, case, accents: "Werthmüller" = "werthmuller"), split into
tokens (camelCase too: "MikhailRyazanov" = "Mikhail Ryazanov"), and Chinese names are
transliterated with pypinyin: the surname (one or two characters, read through an override
table for the surnames with several readings: 单 is Shan, not Dan) and the given name as one
token, so 赵发威 = "Fawei Zhao" = "Zhao Fawei". E-mails are lower-cased, lose their ``+tag``
and, at Gmail, their dots. GitHub and Gitee no-reply addresses give the account's login.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surnames whose common reading as a surname differs from the character's default reading,
# and the compound surnames (two characters, one token).
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "翟": "zhai",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "缪": "miao",
    "种": "chong",
    "秘": "bi",
    "折": "she",
    "员": "yun",
    "召": "shao",
    "隗": "wei",
    "句": "gou",
    "曲": "qu",
    "宿": "su",
    "车": "che",
    "黑": "he",
    "重": "chong",
    "能": "nai",
    "华": "hua",
    "任": "ren",
    "沈": "shen",
    "藏": "zang",
    "柏": "bai",
    "薄": "bo",
    "尉": "yu",
    "万": "wan",
    "贲": "ben",
    "繁": "po",
    "长": "chang",
    "朝": "chao",
    "都": "du",
    "燕": "yan",
    "冼": "xian",
}
COMPOUND_SURNAMES = {
    "欧阳": "ouyang",
    "司马": "sima",
    "诸葛": "zhuge",
    "上官": "shangguan",
    "东方": "dongfang",
    "皇甫": "huangfu",
    "令狐": "linghu",
    "慕容": "murong",
    "夏侯": "xiahou",
    "尉迟": "yuchi",
    "公孙": "gongsun",
    "长孙": "zhangsun",
    "宇文": "yuwen",
    "司徒": "situ",
    "端木": "duanmu",
    "万俟": "moqi",
    "澹台": "tantai",
    "轩辕": "xuanyuan",
    "独孤": "dugu",
    "南宫": "nangong",
    "西门": "ximen",
    "呼延": "huyan",
    "闻人": "wenren",
    "百里": "baili",
}

# Names that say nothing about who someone is: never evidence, never a blocking key.
GENERIC_NAMES = frozenset(
    {
        "unknown",
        "root",
        "admin",
        "administrator",
        "user",
        "username",
        "test",
        "tester",
        "ubuntu",
        "debian",
        "localhost",
        "none",
        "null",
        "nil",
        "anonymous",
        "anon",
        "git",
        "github",
        "gitee",
        "gitlab",
        "me",
        "dev",
        "developer",
        "yourname",
        "name",
        "nobody",
        "guest",
        "default",
        "pi",
        "vagrant",
        "build",
        "builder",
        "jenkins",
        "travis",
        "ci",
        "bot",
        "system",
        "server",
        "mac",
        "macbook",
        "pc",
        "home",
        "owner",
        "author",
        "someone",
        "somebody",
        "info",
        "mail",
        "email",
        "contact",
        "support",
        "hello",
        "noreply",
        "no-reply",
        "webmaster",
        "postmaster",
        "team",
        "office",
        "work",
        "private",
        "public",
        "personal",
        "code",
        "coder",
        "hacker",
        "linux",
        "windows",
        "docker",
        "student",
        "your.name",
        "john doe",
        "jane doe",
    }
)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})
_NOREPLY = re.compile(
    r"^(?:\d+\+)?(?P<login>[^@+]+)@(?P<host>users\.noreply\.github\.com|"
    r"user\.noreply\.gitee\.com|noreply\.gitee\.com)$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_TRAILING_DIGITS = re.compile(r"\d+$")
GMAIL = frozenset({"gmail.com", "googlemail.com"})


def fold(text: str) -> str:
    """Case, width and accents folded: "Dieter Werthmüller" -> "dieter werthmuller"."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


@lru_cache(maxsize=65536)
def _chinese_tokens(text: str) -> tuple[str, ...]:
    """赵发威 -> ("zhao", "fawei"): surname, then the given name as one token."""
    han = "".join(_CJK.findall(text))
    if len(han) < 2:
        return tuple(lazy_pinyin(han, style=Style.NORMAL)) if han else ()
    if len(han) >= 3 and han[:2] in COMPOUND_SURNAMES:
        surname, given = COMPOUND_SURNAMES[han[:2]], han[2:]
    else:
        first = han[0]
        surname = SURNAME_READINGS.get(first) or "".join(lazy_pinyin(first, style=Style.NORMAL))
        given = han[1:]
    return (surname, "".join(lazy_pinyin(given, style=Style.NORMAL)))


@lru_cache(maxsize=262144)
def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name, folded, in the order written ("Last, First" turned around)."""
    name = name.strip()
    if not name:
        return ()
    if has_cjk(name):
        return _chinese_tokens(name)
    if name.count(",") == 1:
        last, first = name.split(",")
        if last.strip() and first.strip():
            name = f"{first} {last}"
    name = _CAMEL.sub(" ", name)
    return tuple(_TOKEN.findall(fold(name)))


@lru_cache(maxsize=262144)
def is_generic(name: str) -> bool:
    """A name that identifies nobody: "root", "unknown", "Your Name", punctuation only."""
    tokens = name_tokens(name)
    if not tokens:
        return True
    joined = " ".join(tokens)
    return joined in GENERIC_NAMES or "".join(tokens) in GENERIC_NAMES


def full_name(name: str | None) -> tuple[str, ...] | None:
    """The tokens of a name good enough to compare people by: two words or more, not
    generic, at least one word longer than an initial. Else None."""
    if not name or is_generic(name):
        return None
    tokens = name_tokens(name)
    if len(tokens) < 2 or sum(len(t) > 1 for t in tokens) < 2:
        return None
    return tokens


@lru_cache(maxsize=262144)
def handle(text: str) -> str:
    """Letters and digits only, trailing digits dropped: "lucas.colley8" -> "lucascolley"."""
    compact = "".join(_TOKEN.findall(fold(text)))
    stripped = _TRAILING_DIGITS.sub("", compact)
    return stripped if len(stripped) >= 3 else compact


def name_handles(tokens: tuple[str, ...]) -> set[str]:
    """The handles a person with this name is likely to pick: firstlast, lastfirst, flast, and
    with middle names dropped. (firstl is left out: "louist" is Louis Thibault and Louis Tiao.)"""
    first, last = tokens[0], tokens[-1]
    out = {
        "".join(tokens),
        "".join(reversed(tokens)),
        first + last,
        last + first,
        first[0] + last,
    }
    if len(tokens) > 2:
        out.add(first[0] + "".join(t[0] for t in tokens[1:-1]) + last)
    return {h for h in out if len(h) >= 5}


def full_forms(tokens: tuple[str, ...]) -> set[str]:
    """The whole name as one handle: firstlast, lastfirst (middle names kept or dropped)."""
    first, last = tokens[0], tokens[-1]
    return {"".join(tokens), "".join(reversed(tokens)), first + last, last + first}


@dataclass(frozen=True)
class Email:
    local: str  # lower-case, no +tag (no dots at Gmail)
    domain: str
    normalized: str
    login: str | None  # the account a no-reply address belongs to
    login_platform: str | None


@lru_cache(maxsize=262144)
def parse_email(value: str) -> Email | None:
    """None for something that is not an e-mail address ("", "foo", "a@b@c", "<>")."""
    value = value.strip().strip("<>").strip()
    if not _EMAIL.match(value):
        return None
    low = value.lower()
    m = _NOREPLY.match(low)
    if m:
        platform = "github" if "github" in m.group("host") else "gitee"
        login = m.group("login")
        return Email(login, m.group("host"), f"{login}@{m.group('host')}", login, platform)
    local, domain = low.rsplit("@", 1)
    local = local.split("+", 1)[0] or local
    if domain in GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    if not local:
        return None
    return Email(local, domain, f"{local}@{domain}", None, None)
