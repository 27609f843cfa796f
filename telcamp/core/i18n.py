"""Translations (gettext catalogues, English, Russian, Chinese).

The .po files under telcamp/locale/ are read directly with Babel at start-up, so no compile
step is needed. The language follows ?lang=, then the `lang` cookie, then the browser's
Accept-Language, then English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES: tuple[str, ...] = ("en", "ru", "zh")
LOCALE_NAMES = {"en": "English", "ru": "Русский", "zh": "中文"}
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent.parent / "locale"


@lru_cache
def catalog(locale: str) -> Catalog:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Catalog(locale=locale)
    with po.open("rb") as fh:
        return read_po(fh, locale=locale)


class Translator:
    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._catalog = catalog(locale)

    def gettext(self, message: str) -> str:
        msg = self._catalog.get(message)
        if msg is None or not msg.string or isinstance(msg.string, tuple | list):
            return message
        return str(msg.string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        msg = self._catalog.get(singular)
        if msg is not None and isinstance(msg.string, tuple | list) and all(msg.string):
            # Babel's Catalog exposes the locale's plural rule as a callable at run time.
            idx = int(getattr(self._catalog, "plural_func")(n))  # noqa: B009
            if idx < len(msg.string):
                return str(msg.string[idx])
        return singular if n == 1 else plural


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str) -> str:
    for candidate in (query_lang, cookie_lang):
        if candidate in LOCALES:
            return str(candidate)
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag:
            weighted.append((q, tag))
    for _q, tag in sorted(weighted, key=lambda t: -t[0]):
        base = tag.split("-")[0]
        if base in LOCALES:
            return base
    return DEFAULT_LOCALE


def get_translator(locale: str) -> Translator:
    return Translator(locale if locale in LOCALES else DEFAULT_LOCALE)


# Domains register how to say their (English, stable) error messages in another
# language: each takes (text, gettext) and returns the translation or None (not mine).
# The API's error handler uses them for the `message` of an error; `code` stays English.
MessageTranslator = Callable[[str, Callable[[str], str]], "str | None"]
MESSAGE_TRANSLATORS: list[MessageTranslator] = []


def register_messages(translator: MessageTranslator) -> None:
    if translator not in MESSAGE_TRANSLATORS:
        MESSAGE_TRANSLATORS.append(translator)


Pattern = tuple["re.Pattern[str]", str]


def say_pattern(text: str, patterns: tuple[Pattern, ...], gettext: Callable[[str], str],
                words: dict[str, dict[str, str]] | None = None) -> str | None:
    """`text` through the first (English regex, msgid with the same named fields) pair
    that matches it, or None. The fields are the user's values as written, except those
    named in `words` (a field → {English word: msgid}), which are said too."""
    for pattern, msgid in patterns:
        found = pattern.match(text)
        if found:
            fields = {k: gettext(words[k].get(v, v)) if words and k in words else v
                      for k, v in found.groupdict().items()}
            said = gettext(msgid)
            # format the translation only (a value like "{x}" is data, not a field), and
            # only with fields: a fixed sentence may show braces of its own ({"days": N})
            return said.format(**fields) if fields else said
    return None


def known_only(say: MessageTranslator) -> MessageTranslator:
    """A domain's `say` as a MESSAGE_TRANSLATORS entry: None unless it said the message
    in other words (not ours, or no translation: the next domain may know it)."""
    def known(text: str, gettext: Callable[[str], str]) -> str | None:
        said = say(text, gettext)
        return said if said is not None and said != text else None

    return known


def say_message(text: str, gettext: Callable[[str], str]) -> str:
    """An error message through `gettext`: a registered domain's wording, else the
    catalogue (the message itself as msgid)."""
    for translator in MESSAGE_TRANSLATORS:
        said = translator(text, gettext)
        if said is not None:
            return said
    return gettext(text)


def translate_message(text: str, locale: str) -> str:
    """An error message in `locale` (see say_message)."""
    if locale not in LOCALES or locale == DEFAULT_LOCALE:
        return text
    return say_message(text, get_translator(locale).gettext)


def format_number(value: float | int | None, locale: str, digits: int = 0) -> str:
    """`value` with the locale's grouping and decimal mark, `digits` decimals; "—" for
    None (an unknown figure)."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale)


def format_value(value: float | int, locale: str | None) -> str:
    """A rule's value as the reader writes it: the locale's decimal mark (12,5 in ru), no
    grouping (a code or a year stays 2026) and every decimal kept (a threshold of 0.125
    must not read 0.13)."""
    if locale is None or locale == DEFAULT_LOCALE:
        return str(value)
    return format_decimal(value, format="0.##########", locale=locale)


def _(message: str) -> str:
    """Mark a Python string for extraction; translate it at render time with `gettext`."""
    return message
