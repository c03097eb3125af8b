"""English and Simplified Chinese for the web app.

Translations are Gettext catalogs kept as text (``i18n/zh_CN/*.po``, one file per area of the
app) and compiled in memory on first use, so nothing binary is committed and a change to a
``.po`` file shows on the next start. Numbers and dates are formatted by Babel for the locale.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

I18N_DIR = Path(__file__).parent / "i18n"
LANGUAGES = ("en", "zh-CN")
LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}


def babel_locale(lang: str) -> str:
    return "zh_CN" if lang == "zh-CN" else "en"


def load_catalog(lang: str) -> Catalog:
    """Every ``.po`` file of the language merged into one catalog."""
    locale = babel_locale(lang)
    merged = Catalog(locale=locale)
    for path in sorted((I18N_DIR / locale).glob("*.po")):
        with path.open("rb") as f:
            part = read_po(f, locale=locale)
        for message in part:
            if message.id:
                merged[message.id] = message
    return merged


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    buf = BytesIO()
    write_mo(buf, load_catalog(lang))
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags by preference (``zh-CN,zh;q=0.9,en;q=0.8`` → zh-CN, zh, en)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            ranked.append((-q, i, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None) -> str:
    """The app's language for an Accept-Language header: any Chinese tag reads Simplified
    Chinese (the only Chinese we have), anything else English."""
    for tag in parse_accept_language(header):
        low = tag.lower()
        if low == "*" or low.startswith("en"):
            return "en"
        if low.startswith("zh"):
            return "zh-CN"
    return "en"


class Formatter:
    """Numbers, percentages and dates for one language (used by templates as ``fmt``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = Locale.parse(babel_locale(lang))

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        return format_decimal(
            value, format=None if digits == 0 else f"#,##0.{'0' * digits}", locale=self.locale
        )

    def percent(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        return format_percent(
            value, format=f"#,##0{'.' + '0' * digits if digits else ''}%", locale=self.locale
        )

    def date(self, value: date | datetime | str | None, fmt: str = "medium") -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                return text
        if isinstance(value, datetime):
            value = value.date()
        return str(format_date(value, format=fmt, locale=self.locale))

    def datetime(self, value: datetime | str | None, fmt: str = "medium") -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            text = value
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                return text
        return str(format_datetime(value, format=fmt, locale=self.locale))

    def hours(self, value: float | None) -> str:
        """A duration given in hours, as the unit a person would use."""
        if value is None:
            return "—"
        if value < 48:
            return self._unit(value, "hour")
        return self._unit(value / 24, "day")

    def _unit(self, value: float, unit: str) -> str:
        from babel.units import format_unit

        return format_unit(round(value, 1), f"duration-{unit}", length="short", locale=self.locale)
