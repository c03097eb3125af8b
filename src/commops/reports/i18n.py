"""English and Simplified Chinese for the reports: the message catalog is a ``.po`` file in
``i18n/`` (the only copy; nothing binary is committed), compiled into memory with Babel when a
report first needs it. Numbers and dates are formatted for the language's locale."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from commops.errors import UsageError

# Report language -> Babel locale.
LANGUAGES = {"en": "en", "zh-CN": "zh_Hans_CN"}


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise UsageError(
            f"language {lang!r} is not supported for reports",
            hint=f"Use one of: {', '.join(LANGUAGES)}",
        )
    return lang


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang`` (English needs none: the messages are English)."""
    check_lang(lang)
    if lang == "en":
        return gettext.NullTranslations()
    po = resources.files("commops.reports").joinpath("i18n", f"{lang.replace('-', '_')}.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=LANGUAGES[lang])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Formatter:
    """Numbers, shares, hours and dates as the locale writes them."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)
        self.locale = Locale.parse(LANGUAGES[lang])
        self._ = translations(lang).gettext

    def number(self, value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        if isinstance(value, float) and not value.is_integer():
            return format_decimal(value, format="#,##0.##", locale=self.locale)
        return format_decimal(int(value), locale=self.locale)

    def share(self, value: object) -> str:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "—"
        return format_percent(value, format="#,##0.#%", locale=self.locale)

    def change(self, value: float | None) -> str:
        """A change as a signed share (+12.5%), or a dash when it cannot be computed."""
        if value is None:
            return "—"
        text = format_percent(abs(value), format="#,##0.#%", locale=self.locale)
        return ("+" if value >= 0 else "−") + text

    def value(self, value: object, unit: str = "") -> str:
        """A figure in its unit: "%" is a share (0.85 -> 85%), "h" hours."""
        if unit == "%":
            return self.share(value)
        return self.number(value)

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return "—"
        return format_date(value, format="medium", locale=self.locale)

    def month(self, value: dt.date) -> str:
        return format_skeleton("yMMMM", value, locale=self.locale)

    def period_title(self, kind: str, label: str, start: dt.date, end: dt.date) -> str:
        """October 2026, 2026, Week 43, 2026 (19 Oct – 25 Oct) — or their Chinese forms."""
        if kind == "monthly":
            return self.month(start)
        if kind == "annual":
            return self._("Year %(year)s") % {"year": start.year}
        year, week, _ = start.isocalendar()
        return self._("Week %(week)s, %(year)s") % {"week": week, "year": year}
