"""Exports in another language: month names and AM/PM markers of every shipped language
parse with the English formats; localised headers find the presets' columns."""

from __future__ import annotations

import pandas as pd
import pytest
from babel import Locale
from babel.dates import get_month_names

from sdbridge import locales
from sdbridge.config import load_preset, preset_names
from sdbridge.dates import parse_datetimes

JIRA_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%y")


@pytest.mark.parametrize("code", locales.LANGUAGES)
def test_every_month_name_of_a_language_reads_as_its_month(code):
    locale = Locale.parse(code)
    pm = locale.day_periods["format"]["abbreviated"].get("pm", "PM")
    for width in ("abbreviated", "wide"):
        names = get_month_names(width, locale=code)
        values = [f"05/{names[m]}/26 9:10 {pm}" for m in range(1, 13)]
        parsed, bad = parse_datetimes(pd.Series(values, dtype="str"), JIRA_FORMATS, "UTC")
        assert not bad.any(), [v for v, b in zip(values, bad) if b]
        assert parsed.dt.month.tolist() == list(range(1, 13))
        assert (parsed.dt.hour == 21).all()  # the PM marker of the language was read


def test_java_three_letter_months_and_dotted_markers():
    values = pd.Series(["18/ago/26 9:10 a. m.", "05/dic/25 10:00 p.m.", "1/sep/26 8:00 AM", "3/Mär/26 14:00"])
    parsed, bad = parse_datetimes(values.astype("str"), JIRA_FORMATS, "UTC")
    assert not bad.any()
    assert [(t.month, t.hour) for t in parsed] == [(8, 9), (12, 22), (9, 8), (3, 14)]


def test_an_unreadable_value_stays_invalid():
    parsed, bad = parse_datetimes(pd.Series(["18/xyz/26 9:10 AM", "later"], dtype="str"), JIRA_FORMATS, "UTC")
    assert bad.tolist() == [True, True] and parsed.isna().all()


def test_headers_compare_without_case_accents_or_spacing():
    assert locales.header_key("  Fälligkeits   Datum ") == locales.header_key("falligkeits datum")
    assert locales.english_header("Clave de incidencia") == "Issue key"
    assert locales.english_header("Champ personnalisé (Cause racine)") == "Custom field (Cause racine)"
    assert locales.english_header("Summary") is None
    assert locales.detect_language(["Résumé", "Clé de ticket", "Statut", "Priorité"]) == "fr"
    assert locales.detect_language(["Summary", "Issue key"]) is None


def _preset_columns() -> set[str]:
    from sdbridge.mapping.spec import FieldSpec, WorkProductMapping

    found = set()
    for name in preset_names():
        for mapping in (load_preset(name).get("map") or {}).values():
            if not mapping:
                continue
            model = WorkProductMapping.model_validate(mapping)
            found |= {c.from_ for c in (*model.where, *model.where_any)}
            for spec in model.fields.values():
                found |= set(FieldSpec.model_validate(spec).references())
    return {locales.header_key(c) for c in found}


@pytest.mark.parametrize("code", locales.LANGUAGES)
def test_every_translated_header_is_a_column_some_preset_reads(code):
    """A language table that names a header no preset reads would translate for nothing."""
    known = _preset_columns() | {locales.header_key(o) for others in locales.spellings().values() for o in others}
    known |= set(locales.spellings())
    table = locales.language(code)
    # read by `init --from`: to name a JSM export, to find a service desk's requests, to find an event log
    flavour_only = {locales.header_key(h) for h in ("Request Type", "Project type", "Updated")}
    english = {e for meanings in table["headers"].values() for e in locales._english(meanings)}
    unknown = sorted(e for e in english if locales.header_key(e) not in known | flavour_only)
    assert not unknown, f"{code}: {unknown}"
    assert table["custom_field"] and table["values"]
