"""Every user-facing string is translated in every catalogue (en, ru, zh)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from telcamp.core.i18n import LOCALES, Translator, catalog, negotiate

ROOT = Path(__file__).parent.parent.parent


def _extracted() -> dict[str, str]:
    method_map = [
        ("telcamp/**.py", "python"),
        ("telcamp/**/templates/**.html", "jinja2"),
    ]
    options = {"telcamp/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_catalogues_are_complete() -> None:
    messages = _extracted()
    assert "Home" in messages  # the extraction itself works
    missing = []
    for locale in LOCALES:
        cat = catalog(locale)
        for msgid, where in messages.items():
            entry = cat.get(msgid)
            if entry is None or not entry.string:
                missing.append(f"{locale}: {msgid!r} ({where})")
    assert not missing, "untranslated messages:\n" + "\n".join(missing)


def test_translator_and_negotiation() -> None:
    assert Translator("ru").gettext("Home") == "Главная"
    assert Translator("zh").gettext("Home") == "首页"
    assert Translator("ru").gettext("not in any catalogue") == "not in any catalogue"
    assert negotiate(None, None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert negotiate(None, None, "de-DE,de;q=0.9") == "en"
    assert negotiate("zh", "ru", "en") == "zh"
    assert negotiate("xx", "ru", "en") == "ru"


def test_numbers_are_written_as_the_language_writes_them() -> None:
    from telcamp.core.i18n import format_number

    assert format_number(5112, "en") == "5,112" and format_number(5112, "zh") == "5,112"
    assert format_number(5112, "ru") == "5\u00a0112"  # a comma is the Russian decimal mark
    assert format_number(1234.5, "ru", 2) == "1\u00a0234,50"
    assert format_number(1234.5, "en", 2) == "1,234.50"
    assert format_number(None, "ru") == "—"
