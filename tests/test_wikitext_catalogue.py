"""The template catalogue is data: it loads, its format language parses, and a bad file is one clear error."""

import re

import pytest

from lhama.wikitext import CatalogueError, default_catalogue, load_catalogue, render_templates, template_key
from lhama.wikitext.catalogue import LANGUAGES_PATH, OptionalPart, Placeholder, parse_format


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_catalogue_loads_and_covers_the_issue_s_templates():
    catalogue = default_catalogue()
    for name in ("fmtn", "formatnum", "nowrap", "num", "séc", "lang", "langx", "AC", "DC", "a.C.", "d.C.", "ca.",
                 "c.", "converter", "convert", "bandeira", "flagicon", "flagcountry", "citação", "quote", "dni",
                 "morte", "dtlink"):
        assert template_key(name) in catalogue.templates, name
    assert [prefix for prefix, _ in catalogue.families] == ["lang-"]
    assert catalogue.languages["de"] == "alemão" and len(catalogue.languages) > 150
    assert catalogue.is_silent("citar web") and catalogue.is_silent("referências")
    assert not catalogue.is_silent("coord")


def test_template_key_is_mediawiki_s_title_comparison():
    assert template_key("  fmtn ") == template_key("Fmtn") == "fmtn"
    assert template_key("Data_de  nascimento") == "data de nascimento"
    assert template_key("AC") != template_key("Ac")


def test_format_language():
    assert parse_format("[em {@suffix:language}: ]{1}", "x") == (
        OptionalPart(("em ", Placeholder(("@suffix",), "language"), ": ")), Placeholder(("1",)))
    assert parse_format("{2|1}", "x") == (Placeholder(("2", "1")),)


@pytest.mark.parametrize(("text", "problem"), [
    ("[{1}", "unclosed '['"), ("{1}]", "unbalanced ']'"), ("{1:shout}", "unknown filter 'shout'"), ("{}", "empty"),
])
def test_bad_formats_are_named(text, problem):
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        parse_format(text, "templates.yaml: templates #3")


@pytest.mark.parametrize(("yaml_text", "problem"), [
    ("templates: {}", "expected a mapping with a 'templates' list"),
    ("templates:\n  - format: '{1}'", "templates #1: needs a non-empty 'names' list"),
    ("templates:\n  - names: [x]\n    render: dance", "needs 'format' or 'render'"),
    ("templates:\n  - names: [x, X]\n    format: '{1}'", "'X' is listed twice"),
    ("templates: [\n", "cannot read the template catalogue"),
    ("templates: []\nunits:\n  km: {symbol: km}", "units.km: needs symbol, dimension and factor"),
])
def test_a_malformed_catalogue_is_one_error_naming_the_file(tmp_path, yaml_text, problem):
    path = write(tmp_path / "templates.yaml", yaml_text)
    with pytest.raises(CatalogueError, match=re.escape(problem)) as error:
        load_catalogue(path, LANGUAGES_PATH)
    assert str(path) in str(error.value) or "cannot read" in str(error.value)


def test_a_catalogue_of_one_template(tmp_path):
    path = write(tmp_path / "templates.yaml", "templates:\n  - names: [Olá]\n    format: 'olá, {nome|1}[ ({2})]'\n")
    catalogue = load_catalogue(path, LANGUAGES_PATH)
    assert render_templates("{{olá|mundo}}; {{Olá|nome=Ana|x|y}}; {{fmtn|1000}}", catalogue=catalogue) == (
        "olá, mundo; olá, Ana (y); ")
