"""Exports written in another language, and the many spellings of one column.

Four kinds of knowledge, all data:
- `mapping/headers.yaml`: the spellings one column has across products and versions (Jira
  Cloud's `Components` is Data Center's `Component/s`);
- `mapping/languages/<code>.yaml`: how a Jira, JSM or GLPI UI in that language names its
  columns (`headers:`) and the values that carry meaning (`values:`: priorities, statuses,
  issue types, resolutions, yes/no), each mapped to the English word the presets use;
- `mapping/values.yaml`: what those English values mean (which states are done, which are
  open), so a preset says `done_state` once and reads every language;
- month names and AM/PM markers of each language, from the Unicode CLDR data Babel ships.

A preset compares values in English (`in: [Highest, High]`): `value_spellings` gives every
way a shipped language writes them, so `Höchste` and `Más alta` match too, with no per-cell
translation (the wanted set grows, the column is compared as it is).

Headers are compared by `header_key`: no case, no accents, spaces collapsed. Dates in a
language are rewritten to English month names column-wise in Arrow (one regex pass to find
the month word, a dictionary lookup, one join), so `18/ago/26 9:10 a. m.` parses with the
same `%d/%b/%y %I:%M %p` as an English export, with no per-cell Python at 1M rows.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sdbridge import safe_yaml

LANGUAGES = ("es", "fr", "de", "pt", "it", "nl", "nb")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SPACES = re.compile(r"\s+")


def header_key(text: str) -> str:
    """How headers are compared: `Fälligkeits­datum ` and `fälligkeitsdatum` are one, and a
    field name is its label (`short_description` is `Short description`, as ServiceNow
    exports either)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("_", " "))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", plain).strip().casefold()


def _data(*parts: str) -> object:
    # the data files of `mapping/`, read without importing the mapping package (which imports this)
    return safe_yaml.load_shipped_file("mapping", *parts)


@cache
def spellings() -> dict[str, tuple[str, ...]]:
    """header key of a preset's column name -> its other spellings (headers.yaml)."""
    table = _data("headers.yaml")
    assert isinstance(table, dict)
    return {header_key(name): tuple(others) for name, others in table.items()}


@cache
def language(code: str) -> dict[str, Any]:
    table = _data("languages", f"{code}.yaml")
    assert isinstance(table, dict)
    return table


def _english(value: object) -> tuple[str, ...]:
    """A right-hand side of a language table: one English word or a list of them."""
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


@cache
def _translations() -> tuple[dict[str, tuple[str, ...]], dict[str, str], dict[str, str]]:
    """(header key -> the English headers it stands for, custom-field prefix key -> "Custom
    field", header key -> language code) over every language."""
    headers: dict[str, tuple[str, ...]] = {}
    prefixes: dict[str, str] = {}
    language_of: dict[str, str] = {}
    for code in LANGUAGES:
        table = language(code)
        for local, english in dict(table.get("headers") or {}).items():
            key = header_key(str(local))
            meanings = tuple(e for e in _english(english) if header_key(e) != key)
            if meanings:
                headers[key] = tuple(dict.fromkeys((*headers.get(key, ()), *meanings)))
                language_of.setdefault(key, code)
        prefix = table.get("custom_field")
        if prefix:
            prefixes[header_key(str(prefix))] = "Custom field"
            language_of.setdefault(header_key(str(prefix)), code)
    return headers, prefixes, language_of


_CUSTOM = re.compile(r"^(?P<prefix>[^()]+?)\s*\((?P<name>.*)\)$")


def english_headers(header: str) -> tuple[str, ...]:
    """The English headers a localised one stands for (`Resumen` -> `Summary`, `Campo
    personalizado (Causa raíz)` -> `Custom field (Causa raíz)`; German `Lösung` is Jira's
    `Resolution` and GLPI's `Solution`); () when it is not one."""
    headers, prefixes, _ = _translations()
    key = header_key(header)
    if key in headers:
        return headers[key]
    found = _CUSTOM.match(header.strip())
    if found and header_key(found["prefix"]) in prefixes:
        return (f"Custom field ({found['name']})",)
    return ()


def english_header(header: str) -> str | None:
    """The first English header a localised one stands for; None when it is not one."""
    return next(iter(english_headers(header)), None)


def detect_language(headers: list[str]) -> str | None:
    """The language most of the localised headers are in; None for an English export."""
    _, _, language_of = _translations()
    votes: dict[str, int] = {}
    for header in headers:
        key = header_key(header)
        found = _CUSTOM.match(header.strip())
        code = language_of.get(key) or (language_of.get(header_key(found["prefix"])) if found else None)
        if code:
            votes[code] = votes.get(code, 0) + 1
    return max(votes, key=lambda c: votes[c]) if votes else None


# --- values ---------------------------------------------------------------------------------


def value_key(text: str) -> str:
    """How values are compared: lower case, spaces trimmed and collapsed (accents kept:
    `Media` and `Média` are different words). Lower case, not case folding: Arrow lowers a
    column in one pass, and both sides are lowered alike."""
    return _SPACES.sub(" ", text).strip().lower()


@cache
def _value_meanings() -> dict[str, frozenset[str]]:
    """value key -> the English values it stands for, over every language (English itself
    included: a word means itself)."""
    meanings: dict[str, set[str]] = {}
    for code in LANGUAGES:
        for local, english in dict(language(code).get("values") or {}).items():
            meanings.setdefault(value_key(str(local)), set()).update(value_key(e) for e in _english(english))
    return {key: frozenset(found | {key}) for key, found in meanings.items()}


@cache
def _spellings_of_values() -> dict[str, frozenset[str]]:
    """English value key -> every value key that stands for it (itself included)."""
    spelled: dict[str, set[str]] = {}
    for local, english in _value_meanings().items():
        for meaning in english:
            spelled.setdefault(meaning, {meaning}).add(local)
    return {key: frozenset(found) for key, found in spelled.items()}


def value_spellings(english: str) -> frozenset[str]:
    """Every way a shipped language writes an English value, as value keys: `High` ->
    {high, hoch, alta, haute, høy, ...}."""
    key = value_key(english)
    return _spellings_of_values().get(key, frozenset({key}))


def value_meanings(value: str) -> frozenset[str]:
    """The English values (value keys) a written value stands for: `Höchste` -> {höchste,
    highest}."""
    key = value_key(value)
    return _value_meanings().get(key, frozenset({key}))


@cache
def _vocabulary() -> dict[str, Any]:
    table = _data("values.yaml")
    assert isinstance(table, dict)
    return table


@cache
def state_words() -> tuple[frozenset[str], frozenset[str]]:
    """(done states, open states) as English value keys (`mapping/values.yaml`)."""
    states = _vocabulary()["states"]
    return frozenset(map(value_key, states["done"])), frozenset(map(value_key, states["open"]))


# --- dates ----------------------------------------------------------------------------------


@cache
def _month_words() -> tuple[pa.Array, pa.Array]:
    """Every language's month names (abbreviated and wide, in both CLDR contexts), lower
    case without a final dot, and the English abbreviation each stands for."""
    from babel.dates import get_month_names

    words: dict[str, str] = {}
    for code in LANGUAGES:
        for width in ("abbreviated", "wide"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context=context, locale=code).items():
                    word = name.strip().rstrip(".").casefold()
                    words.setdefault(word, ENGLISH_MONTHS[number - 1])
                    # Java (which Jira runs on) abbreviates to three letters where CLDR has four
                    words.setdefault(word[:3], ENGLISH_MONTHS[number - 1])
    for english in ENGLISH_MONTHS:
        words[english.casefold()] = english
    return pa.array(list(words), pa.large_string()), pa.array(list(words.values()), pa.large_string())


_LATIN = r"A-Za-z\x{00C0}-\x{024F}"
"""Letters of the languages we read (Latin with its accents); a class of ranges, which RE2
matches about ten times faster than \\pL."""
_MONTH_IN_TEXT = rf"^(?P<before>[^{_LATIN}]*)(?P<word>[{_LATIN}]+)\.?(?P<after>.*)$"
_MERIDIEM = rf"(^|[^{_LATIN}])([aApP])\.?[\s\x{{a0}}\x{{202f}}]?[mM]\.?$"
"""`a. m.`, `p.m.` and the like at the end: `aM`/`pM`, which %p reads in any case."""


def english_dates(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Text with a month word in another language replaced by its English abbreviation and
    an AM/PM marker written `a. m.` / `p.m.` as `AM`/`PM`; other values unchanged."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    words, english = _month_words()
    parts = pc.extract_regex(array, _MONTH_IN_TEXT)
    word = pc.utf8_lower(parts.field("word"))
    found = pc.index_in(word, value_set=words)
    month = pc.take(english, found)
    rebuilt = pc.binary_join_element_wise(
        parts.field("before"), month, parts.field("after"), pa.scalar("", pa.large_string())
    )
    result = pc.if_else(pc.is_valid(rebuilt), rebuilt, array)
    return pc.replace_substring_regex(result, _MERIDIEM, r"\1\2M")
