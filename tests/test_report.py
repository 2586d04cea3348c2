from lhama.report import render_report


def context(title: str, question: str) -> dict:
    return {
        "provenance": {
            "config_sha256": "ab" * 32, "seed": 42,
            "dump": {"name": f"{title}.xml.bz2", "sha1": "0" * 40, "bytes": 10, "format": "xml",
                     "schema_version": "0.11", "dbname": "ptwiki"},
            "index": None, "packages": {"lhama": "0.1.0"},
            "hardware": {"cpus": 2, "processor": "x86_64", "memory_gb": 24, "system": "Linux", "python": "3.11"},
        },
        "manifest": {"options": {"min_chars": 200}},
        "stats": {
            "counts": {"pages_read": 3, "articles": 1, "characters": 100, "skipped": {"redirect": 2}},
            "length_summary": {"p50": 100, "p90": 100, "max": 100}, "sections_per_article": 1.0,
            "articles_with_infobox": 1, "infobox_types": {title: 1}, "qa_total": 1, "qa_articles": 1,
        },
        "plots": {"article_lengths": "data:image/png;base64,AAAA", "qa_kinds": "data:image/png;base64,AAAA",
                  "retrieval_recall": "data:image/png;base64,AAAA"},
        "split": {"by": "article", "seed": 42, "test_size": 0.1, "train": 1, "test": 1, "train_articles": 1,
                  "test_articles": 1, "test_with_train_article": 0},
        "examples_sample": [{"kind": "lead", "source_title": title, "text": question}],
        "question_sets": [{
            "name": "paper", "file": "q.jsonl",
            "questions": [{"id": "q1", "question": question, "answers": [title, ["a", "b"]], "source": title}],
            "coverage": {"rows": [{"answer_in_source": True, "source_found": True, "articles_with_answer": 1}],
                         "with_source": 1, "answer_in_source": 1, "answer_in_corpus": 1},
        }],
        "retrieval": {
            "index": {"counts": {"chunks": 12}, "chunker": {"chunk_tokens": 256, "chunk_overlap": 32},
                      "embedder": {"name": "all-MiniLM-L6-v2"}, "dimension": 384, "index": {"type": "flat"}},
            "sets": [{"name": "paper", "n": 1, "k": 5, "hybrid": True, "recall_at_k": 1.0, "mrr": 0.5,
                      "answer_in_passages": 1.0,
                      "rows": [{"id": "q1", "source": title, "gold_rank": 2, "answer_in_passages": True,
                                "top_title": title, "top_section": question}]}],
        },
    }


def test_text_from_dumps_and_questions_is_escaped():
    evil = "<script>alert('x')</script>"
    html = render_report(context(title=f"Brasil {evil}", question="Quem? <img src=x onerror=alert(1)>"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_report_shows_sections_and_figures():
    html = render_report(context(title="Brasil", question="Qual a capital do Brasil?"))
    for anchor in ('id="summary"', 'id="provenance"', 'id="corpus"', 'id="instructions"', 'id="questions"',
                   'id="retrieval"'):
        assert anchor in html
    assert html.count('src="data:image/png;base64,') == 3
    assert "Qual a capital do Brasil?" in html and "a + b" in html
