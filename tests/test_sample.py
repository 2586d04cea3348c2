"""The embedded sample dump: what the demo and the paper's questions rely on."""

import bz2
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lhama.corpus import extract, iter_articles
from lhama.dump import read_index
from lhama.questions import load_questions
from lhama.text import answers_match

ROOT = Path(__file__).resolve().parents[1]
DUMP = ROOT / "resources/ptwiki-sample-pages-articles-multistream.xml.bz2"
INDEX = ROOT / "resources/ptwiki-sample-pages-articles-multistream-index.txt.bz2"
PAPER = ROOT / "config/questions/paper.jsonl"
SHARED_PAPER = ROOT.parent / "shared/eval/paper-questions.jsonl"
RESIDUE = ("{{", "}}", "[[", "]]", "<ref", "{|", "thumb|", "Categoria:", "&nbsp;")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "articles"
    manifest = extract(DUMP, out, index_path=INDEX, workers=2, progress=False)
    return manifest, list(iter_articles(out))


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
