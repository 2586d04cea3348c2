"""lhama's cleaning on real ptwiki wikitext (tests/fixtures/ptwiki-real), measured against mwparserfromhell's
strip_code: markup residue, numbers kept, sentences with a hole, table cells and captions kept (see realwiki.py)."""

import pytest

import realwiki
from lhama.wikitext import clean

ENTRIES = realwiki.fixtures()


@pytest.fixture(scope="module")
def results():
    return realwiki.measure_all()


def test_every_fixture_is_listed_with_its_source():
    listed = {entry["file"] for entry in ENTRIES}
    on_disk = {path.name for path in realwiki.FIXTURES.glob("*.wiki")}
    assert listed == on_disk
    for entry in ENTRIES:
        source = entry["source"]
        assert source["kind"] and any(source.get(key) for key in ("url", "file_id", "repository", "reference"))
        assert "revision" in entry and entry["expect"], entry["file"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["file"] for entry in ENTRIES])
def test_keeps_what_a_reader_sees(entry):
    output = realwiki.lhama_output(realwiki.fixture_text(entry))
    for expected in entry["expect"]:
        assert expected in output, f"{entry['file']}: {expected!r} missing from\n{output}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["file"] for entry in ENTRIES])
def test_no_residue_and_no_holes(results, entry):
    measures = results[entry["file"]]["lhama"]
    assert measures.residue_lines == 0
    assert measures.holes == 0, measures.hole_examples


def test_against_strip_code(results, record_property):
    lhama, strip_code = results["total"]["lhama"], results["total"]["strip_code"]
    record_property("realwiki", realwiki.table(results))
    print("\n" + realwiki.table(results))
    assert lhama.numbers_kept >= 0.95 * lhama.numbers
    assert lhama.numbers_kept > strip_code.numbers_kept
    assert lhama.holes < strip_code.holes and lhama.residue_lines < strip_code.residue_lines
    assert lhama.cells_kept >= 0.9 * lhama.cells
    assert lhama.captions_kept == lhama.captions > 0


def test_unknown_templates_of_the_fixtures_are_counted_by_name():
    text = realwiki.fixture_text(next(entry for entry in ENTRIES if entry["file"] == "campeonatos-femininos.wiki"))
    dropped = clean(text).templates.dropped
    assert dropped == {"Futebol Atlético-MG": 1, "Futebol Internacional Feminino": 1, "Futebol Foz Cataratas": 1}

