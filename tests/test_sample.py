"""The embedded sample dump: what the demo and the paper's questions rely on."""

import bz2
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lhama.corpus import extract, iter_articles
from lhama.dump import read_index
from lhama.questions import load_questions, question_coverage
from lhama.text import answers_match

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "resources/ptwiki-sample-pages-articles-multistream.xml.bz2"
INDEX = ROOT / "resources/ptwiki-sample-pages-articles-multistream-index.txt.bz2"
PAPER = ROOT / "config/questions/paper.jsonl"
SAMPLE_FACTS = ROOT / "config/questions/sample-facts.jsonl"
SHARED_PAPER = ROOT.parent / "shared/eval/paper-questions.jsonl"
RESIDUE = ("{{", "}}", "[[", "]]", "<ref", "{|", "thumb|", "Categoria:", "&nbsp;")


@pytest.fixture(scope="module")
def extracted_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "articles"
    extract(DUMP, out, index_path=INDEX, workers=2, progress=False)
    return out


@pytest.fixture(scope="module")
def extracted(extracted_dir):
    return json.loads((extracted_dir / "manifest.json").read_text(encoding="utf-8")), list(iter_articles(extracted_dir))


def test_sample_is_a_multistream_ptwiki_dump_with_enough_pages():
    entries = read_index(INDEX)
    assert len(entries) >= 40
    assert len({entry.offset for entry in entries}) >= 4  # several page streams
    header = bz2.decompress(DUMP.read_bytes()[: entries[0].offset]).decode()
    assert 'version="0.11"' in header and "<dbname>ptwiki</dbname>" in header
    assert '<namespace key="14" case="first-letter">Categoria</namespace>' in header


def test_expected_articles_and_skips(extracted):
    manifest, articles = extracted
    counts = manifest["counts"]
    skipped = counts["skipped"]
    assert counts["pages_read"] == len(read_index(INDEX))
    assert skipped["redirect"] >= 4 and skipped["disambiguation"] == 1
    assert skipped["namespace"] >= 6 and skipped["too_short"] >= 1
    assert counts["articles"] == len(articles) >= 34
    assert counts["pages_read"] == counts["articles"] + sum(skipped.values())
    titles = {article["title"] for article in articles}
    assert "Constituição brasileira" not in titles  # the disambiguation page
    assert all(":" not in title.split(" ")[0] or title.startswith("Revolução") for title in titles)


def test_no_markup_residue(extracted):
    _, articles = extracted
    lines = [line for article in articles for line in article["text"].split("\n") if line.strip()]
    leaks = [line for line in lines if any(token in line for token in RESIDUE)]
    assert leaks == []
    for article in articles:
        for value in (article["infobox"] or {}).get("fields", {}).values():
            assert not any(token in value for token in RESIDUE), value


def test_each_paper_answer_is_in_its_source_article(extracted):
    _, articles = extracted
    by_title = {article["title"]: article for article in articles}
    for question in load_questions(PAPER):
        article = by_title[question.source]
        infobox = " ".join((article["infobox"] or {}).get("fields", {}).values())
        assert answers_match(question.answers, article["text"] + "\n" + infobox), question.id


def test_paper_questions_are_all_answerable_from_their_sources(extracted_dir):
    coverage = question_coverage(load_questions(PAPER), extracted_dir)
    assert coverage["answer_in_source"] == coverage["with_source"] == 10


def test_sample_facts_held_by_tables_captions_and_templates_are_in_their_sources(extracted_dir):
    questions = load_questions(SAMPLE_FACTS)
    coverage = question_coverage(questions, extracted_dir)
    missing = [row["id"] for row in coverage["rows"] if not row["answer_in_source"]]
    assert missing == [] and coverage["answer_in_source"] == len(questions) >= 12


def test_sample_has_real_style_tables_captions_and_text_templates(extracted):
    manifest, articles = extracted
    by_title = {article["title"]: article for article in articles}
    assert sum(len(article["tables"]) for article in articles) >= 18
    assert sum(len(article["captions"]) for article in articles) >= 35
    constitutions = by_title["Constituição brasileira de 1824"]["tables"][-1]["rows"]
    assert [dict(row)["Regime"] for row in constitutions] == ["Império"] + ["República"] * 6  # a rowspan
    brasil = by_title["Brasil"]["text"]
    assert "a leste, a Ponta do Seixas, na Paraíba" in brasil  # a layout table around lists, unwrapped
    assert "República Velha · Era Vargas" not in by_title["História do Brasil"]["text"]  # a navbox, dropped
    assert "A Igreja de Nossa Senhora do Rosário, de planta elíptica" in [
        caption["text"] for caption in by_title["Ouro Preto"]["captions"]]  # a <gallery>
    assert manifest["templates"]["rendered"] > 100
    assert manifest["templates"]["dropped_by_name"] == [{"name": "Coord", "count": 1, "example": "Brasília"}]


@pytest.mark.skipif(not SHARED_PAPER.exists(), reason="shared/eval not beside the checkout")
def test_paper_questions_are_the_shared_file_plus_sources():
    shared = [json.loads(line) for line in SHARED_PAPER.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = [json.loads(line) for line in PAPER.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [{k: v for k, v in q.items() if k != "source"} for q in ours] == shared
    assert all(q["source"] for q in ours)


def test_generator_reproduces_the_shipped_dump(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "resources/ptwiki-sample/build.py"), "--out-dir", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / DUMP.name).read_bytes() == DUMP.read_bytes()
    assert (tmp_path / INDEX.name).read_bytes() == INDEX.read_bytes()
