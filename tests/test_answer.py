"""`lhama answer` on the real demo model (SmolLM2-135M-Instruct from its PyPI package): every variant goes through one
path, rows carry what the evaluation and the report need, and batching does not change greedy answers."""

from __future__ import annotations

import dataclasses
import json

import pytest

import lhama.answer as answer_module
from lhama.answer import answer_questions, check_variant, summary_path, write_answers
from lhama.answer_parts import merge_answers, part_of
from lhama.cli import main
from lhama.config.sections import VARIANTS, GenerationConfig, RetrievalSettings
from lhama.errors import ConfigError, InputFileError, QuestionFileError
from lhama.questions import Question

QUESTIONS = [
    Question("q1", "Quando foi abolida a escravidão no Brasil?", ["13 de maio de 1888"],
             "A escravidão foi abolida em 13 de maio de 1888.", "Lei Áurea"),
    Question("q2", "Qual é a capital do Brasil?", ["Brasília"], None, "Brasília"),
    Question("q3", "Quem liderou a Inconfidência Mineira?", ["Tiradentes"], None, "Tiradentes"),
]
ROW_KEYS = {"id", "question", "answers", "reference", "source", "questions", "variant", "model", "answer", "sources",
            "prompt", "prompt_tokens", "new_tokens", "seconds", "batch", "retrieval_seconds"}
GREEDY = GenerationConfig(max_new_tokens=8, batch_size=8)
TWO_PASSAGES = dataclasses.replace(RetrievalSettings(), retriever=dataclasses.replace(RetrievalSettings().retriever,
                                                                                     k=2))


@pytest.fixture(scope="module")
def demo_dir(smollm2_dir):
    return smollm2_dir


@pytest.fixture(scope="module")
def index_dir(rag_index):
    return rag_index


def question_file(tmp_path, questions=QUESTIONS):
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(q.to_json(), ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    return path


def test_base_and_rag_rows_carry_every_field(demo_dir, index_dir, monkeypatch):
    seen = []
    original = answer_module.generate

    def recording(model, tokenizer, prompts, decoding=None, **kwargs):
        seen.append((id(model), decoding))
        return original(model, tokenizer, prompts, decoding, **kwargs)

    monkeypatch.setattr(answer_module, "generate", recording)
    base = answer_questions(demo_dir, QUESTIONS, variant="base", decoding=GREEDY, questions_name="mini",
                            dtype="float32", progress=False)
    rag = answer_questions(demo_dir, QUESTIONS, variant="rag", decoding=GREEDY, index_dir=index_dir,
                           retrieval=TWO_PASSAGES, questions_name="mini", dtype="float32", progress=False)
    for rows, variant in ((base, "base"), (rag, "rag")):
        assert [row["id"] for row in rows] == ["q1", "q2", "q3"]  # input order
        for row in rows:
            assert set(row) == ROW_KEYS
            assert row["variant"] == variant and row["model"] == "smollm2" and row["questions"] == "mini"
            assert isinstance(row["answer"], str) and 1 <= row["new_tokens"] <= 8 and row["prompt_tokens"] > 0
            assert row["seconds"] > 0
            assert row["prompt"].startswith("<|im_start|>")  # the model's chat template
    assert base[1]["reference"] is None and base[0]["reference"].startswith("A escravidão")
    assert all(row["sources"] == [] and row["retrieval_seconds"] is None for row in base)
    for row in rag:
        assert len(row["sources"]) == 2 and row["retrieval_seconds"] >= 0
        assert set(row["sources"][0]) == {"rank", "title", "section", "url", "chunk_id", "score"}
        assert [source["rank"] for source in row["sources"]] == [1, 2]
        assert "Trechos da Wikipédia" in row["prompt"] and f"[1] {row['sources'][0]['title']}" in row["prompt"]
    assert rag[0]["sources"][0]["title"] == "Lei Áurea"
    assert rag[0]["prompt_tokens"] > base[0]["prompt_tokens"]
    # only the passages differ: same decoding settings for both variants
    assert [decoding for _, decoding in seen] == [GREEDY, GREEDY]
    assert all(question.question in row["prompt"] for question, row in zip(QUESTIONS, base))


def test_batch_size_does_not_change_greedy_answers(demo_dir):
    one = answer_questions(demo_dir, QUESTIONS, variant="base", decoding=GenerationConfig(max_new_tokens=8, batch_size=1),
                           dtype="float32", progress=False)
    eight = answer_questions(demo_dir, QUESTIONS, variant="base", decoding=GREEDY, dtype="float32", progress=False)
    assert [row["answer"] for row in one] == [row["answer"] for row in eight]
    assert [row["new_tokens"] for row in one] == [row["new_tokens"] for row in eight]
    assert len({row["batch"] for row in one}) == 3 and len({row["batch"] for row in eight}) == 1


def test_tuned_variant_loads_a_peft_adapter(demo_dir, tmp_path, monkeypatch):
    from peft import LoraConfig, PeftModel, get_peft_model

    from lhama.models import load_model

    model, _ = load_model(demo_dir, dtype="float32", device="cpu")
    lora = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"],
                                            task_type="CAUSAL_LM", init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    used = []
    original = answer_module.generate

    def recording(model, tokenizer, prompts, decoding=None, **kwargs):
        used.append(model)
        return original(model, tokenizer, prompts, decoding, **kwargs)

    monkeypatch.setattr(answer_module, "generate", recording)
    rows = answer_questions(demo_dir, QUESTIONS[:2], variant="tuned", decoding=GREEDY, adapter_dir=tmp_path / "adapter",
                            dtype="float32", progress=False)
    assert isinstance(used[0], PeftModel)
    assert [row["variant"] for row in rows] == ["tuned", "tuned"]
    assert all(set(row) == ROW_KEYS and row["sources"] == [] for row in rows)


def test_write_answers_through_the_command_line(demo_dir, index_dir, tmp_path):
    out = tmp_path / "answers" / "rag.jsonl"
    config = tmp_path / "config.yaml"
    config.write_text("generation: {max_new_tokens: 4, batch_size: 2}\n", encoding="utf-8")
    assert main(["answer", "--model", str(demo_dir), "--questions", str(question_file(tmp_path)), "--variant", "rag",
                 "--index", str(index_dir), "-k", "1", "--out", str(out), "--config", str(config), "--model-name",
                 "demo", "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["q1", "q2", "q3"]
    assert {row["model"] for row in rows} == {"demo"} and {row["questions"] for row in rows} == {"set"}
    assert all(len(row["sources"]) == 1 and row["new_tokens"] <= 4 for row in rows)
    summary = json.loads(summary_path(out).read_text(encoding="utf-8"))
    assert summary["n"] == 3 and summary["batches"] == 2 and summary["k"] == 1
    assert summary["decoding"]["max_new_tokens"] == 4 and summary["new_tokens"] == sum(r["new_tokens"] for r in rows)
    assert summary["tokens_per_second"] > 0 and summary["retrieval_seconds"] >= 0
    assert summary["retrieval"]["retriever"]["k"] == 1 and summary["environment"]["packages"]["torch"]
    assert not list(out.parent.glob(".*tmp*"))


def test_variant_options_are_checked_before_any_loading(tmp_path):
    assert VARIANTS == ("base", "tuned", "rag", "tuned_rag", "raft")
    with pytest.raises(ConfigError, match="adapter"):
        check_variant("tuned", None, None)
    with pytest.raises(ConfigError, match="adapter"):
        check_variant("raft", None, tmp_path)
    with pytest.raises(ConfigError, match="index"):
        check_variant("raft", tmp_path, None)
    with pytest.raises(ConfigError, match="adapter"):
        check_variant("tuned_rag", None, tmp_path)
    with pytest.raises(ConfigError, match="index"):
        check_variant("rag", None, None)
    with pytest.raises(ConfigError, match="index"):
        check_variant("tuned_rag", tmp_path, None)
    with pytest.raises(ConfigError, match="adapter"):
        check_variant("base", tmp_path, None)
    with pytest.raises(ConfigError, match="variant"):
        check_variant("fine-tuned", None, None)
    with pytest.raises(InputFileError, match="adapter folder not found"):
        check_variant("tuned", tmp_path / "missing", None)
    with pytest.raises(ConfigError, match="index"):
        write_answers(tmp_path / "no-model", question_file(tmp_path), tmp_path / "out.jsonl", variant="rag",
                      decoding=GREEDY)
    assert not (tmp_path / "out.jsonl").exists()


def test_bad_question_files_raise_the_question_file_error(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match="no questions"):
        write_answers(tmp_path / "no-model", empty, tmp_path / "out.jsonl", variant="base", decoding=GREEDY)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "question": "Q?", "answers": ["x"]}\n{"id": \n', encoding="utf-8")
    with pytest.raises(QuestionFileError, match="line 2"):
        write_answers(tmp_path / "no-model", broken, tmp_path / "out.jsonl", variant="base", decoding=GREEDY)


def test_bad_decoding_config_names_the_key(demo_dir, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("generation: {max_tokens: 3}\n", encoding="utf-8")
    assert main(["answer", "--model", str(demo_dir), "--questions", str(question_file(tmp_path)), "--variant",
                 "base", "--out", str(tmp_path / "out.jsonl"), "--config", str(config)]) == 1
    assert "config key 'generation.max_tokens': unknown key" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_parts_answered_apart_and_merged_are_the_whole_set(demo_dir, tmp_path):
    questions = question_file(tmp_path)
    whole = write_answers(demo_dir, questions, tmp_path / "whole.jsonl", variant="base", decoding=GREEDY,
                          dtype="float32", progress=False)
    part_files = []
    for part in range(4):  # 3 questions in 4 parts: blocks of one, the last part empty
        path = tmp_path / "parts" / f"{part:03d}-of-004.jsonl"
        write_answers(demo_dir, questions, path, variant="base", decoding=GREEDY, dtype="float32", progress=False,
                      part=(part, 4))
        part_files.append(path)
    assert part_files[3].read_text(encoding="utf-8") == ""
    merged = merge_answers(part_files, tmp_path / "merged.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "merged.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line) for line in (tmp_path / "whole.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["q1", "q2", "q3"]
    assert [row["answer"] for row in rows] == [row["answer"] for row in expected]
    assert (merged["n"], merged["new_tokens"], merged["model"]) == (3, whole["new_tokens"], whole["model"])
    assert [part["n"] for part in merged["parts"]] == [1, 1, 1, 0] and merged["batches"] == 3
    assert merged["tokens_per_second"] == pytest.approx(merged["new_tokens"] / merged["generation_seconds"])
    assert json.loads(summary_path(tmp_path / "merged.jsonl").read_text(encoding="utf-8")) == merged


def test_a_part_is_a_contiguous_block_and_the_parts_cover_the_set():
    items = list(range(10))
    blocks = [part_of(items, part, 3) for part in range(3)]
    assert blocks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [part_of(items[:2], part, 3) for part in range(3)] == [[0], [1], []]
    with pytest.raises(ConfigError, match="answer part 3 of 3"):
        part_of(items, 3, 3)
