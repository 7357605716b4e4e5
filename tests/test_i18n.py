"""Every message is translated in every shipped language, and formatting follows the locale."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, I18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\w+\}")
TAG = re.compile(r"</?[a-z-]+>")


def source_messages() -> dict[str, tuple[str, ...]]:
    """What the code asks to be translated, extracted the way `pybabel extract` does."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = [mapping["pattern"] for mapping in config["tool"]["babel"]["mappings"]]
    messages: dict[str, tuple[str, ...]] = {}
    method_map = [(pattern, "python") for pattern in patterns]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        messages[ids[0]] = ids
    return messages


def test_source_has_messages() -> None:
    messages = source_messages()
    assert "Which language should I speak?" in messages
    assert len(messages) > 30


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated(language: str) -> None:
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    problems = []
    for msgid, ids in source_messages().items():
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        if len(ids) > 1 and len(strings) != catalog.num_plurals:
            problems.append(f"needs {catalog.num_plurals} plural forms: {msgid!r}")
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(ids[-1])):
                problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
            if sorted(TAG.findall(string)) != sorted(TAG.findall(msgid)):
                problems.append(f"HTML tags differ: {msgid!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_russian_has_three_plural_forms(i18n: I18n) -> None:
    ru = i18n.translator("ru")
    singular = "I know {count} place by that name. Which one do you mean?"
    plural = "I know {count} places by that name. Which one do you mean?"
    forms = {n: ru.ngettext(singular, plural, n) for n in (1, 2, 5, 21, 22, 25)}
    assert forms[1] == forms[21] != forms[2]
    assert forms[2] == forms[22] != forms[5]
    assert forms[5] == forms[25]
    en = i18n.translator("en")
    assert en.ngettext(singular, plural, 1) != en.ngettext(singular, plural, 2)


def test_language_tags_are_negotiated(i18n: I18n) -> None:
    assert i18n.negotiate("es-419") == "es"
    assert i18n.negotiate("ru") == "ru"
    assert i18n.negotiate("pt-BR") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("zz-bogus-tag") == "en"
    assert i18n.translator("fr").language == "en"


def test_dates_numbers_and_hours_follow_the_locale(i18n: I18n) -> None:
    day = date(2026, 12, 31)
    en, es, ru = (i18n.translator(code) for code in ("en", "es", "ru"))
    assert en.date(day) == "Dec 31, 2026"
    assert es.date(day, "long") == "31 de diciembre de 2026"
    assert ru.date(day, "long") == "31 декабря 2026\u202fг."
    assert en.number(1234.5) == "1,234.5"
    assert es.number(1234.5) == "1.234,5"
    assert ru.number(12345.25).replace("\u00a0", " ") == "12 345,25"
    assert en.hour(7) == "7:00\u202fAM" and es.hour(7) == "7:00" and ru.hour(19) == "19:00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_undo_cancel_and_cpr_read_apart_in_every_language(i18n: I18n, language: str) -> None:
    """Undo (remove what was just logged) and Cancel (stop the conversation) sit side by side
    on screens: they must not read alike ("Отменить"/"Отмена"). CPR/AED is named in the
    trainer's language."""
    tr = i18n.translator(language)
    undo, cancel = tr.gettext("Undo"), tr.gettext("Cancel")
    assert undo[:4].casefold() != cancel[:4].casefold()
    cpr = {"en": "CPR/AED", "es": "RCP/DEA", "ru": "СЛР/АНД"}[language]
    assert cpr in tr.gettext("Add my CPR/AED card")
