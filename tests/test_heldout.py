import json

import pytest

from lhama.errors import LhamaError
from lhama.files import read_jsonl, write_jsonl
from lhama.heldout import sample_rows, stratified_quota, write_heldout_questions


def _example(number: int, kind: str) -> dict:
    return {"id": f"{number}-{kind}-0", "kind": kind, "input": f"Pergunta {number}?", "output": f"Resposta {number}.",
            "answers": [f"R{number}"], "source_title": f"Artigo {number}"}


def test_quota_is_proportional_and_sums_to_the_sample():
    counts = {"infobox": 600, "lead": 100, "section": 300}
    assert stratified_quota(counts, 10) == {"infobox": 6, "lead": 1, "section": 3}
    uneven = stratified_quota({"a": 5, "b": 3, "c": 1}, 4)
    assert sum(uneven.values()) == 4 and all(uneven[kind] <= n for kind, n in {"a": 5, "b": 3, "c": 1}.items())
    assert stratified_quota(counts, 5000) == counts


def test_sample_is_seeded_stratified_and_in_file_order():
    kinds = ["infobox"] * 60 + ["lead"] * 10 + ["section"] * 30
    rows = sample_rows(kinds, 20, seed=7)
    assert rows == sorted(rows) and len(set(rows)) == 20
    assert [kinds[row] for row in rows].count("infobox") == 12
    assert [kinds[row] for row in rows].count("lead") == 2
    assert sample_rows(kinds, 20, seed=7) == rows
    assert sample_rows(kinds, 20, seed=8) != rows
    assert sample_rows(kinds, None, seed=7) == list(range(100))


def test_heldout_file_and_summary(tmp_path):
    examples = [_example(number, kind) for number, kind in enumerate(["infobox", "lead", "section"] * 10)]
    write_jsonl(tmp_path / "test.jsonl", examples)
    summary = write_heldout_questions(tmp_path / "test.jsonl", tmp_path / "q.jsonl", tmp_path / "s.json",
                                      max_questions=6, seed=1)
    questions = list(read_jsonl(tmp_path / "q.jsonl"))
    assert [question["id"] for question in questions] == summary["ids"]
    assert set(questions[0]) >= {"id", "question", "answers", "reference", "source"}
    assert summary["n"] == 6 and summary["population"] == 30
    assert summary["by_kind"] == {kind: {"population": 10, "n": 2} for kind in ("infobox", "lead", "section")}
    assert "stratified by kind" in summary["method"] and "seed 1" in summary["method"]
    assert json.loads((tmp_path / "s.json").read_text())["ids"] == summary["ids"]


def test_empty_test_split_names_the_file(tmp_path):
    (tmp_path / "test.jsonl").write_text("")
    with pytest.raises(LhamaError, match="test.jsonl: the test split is empty"):
        write_heldout_questions(tmp_path / "test.jsonl", tmp_path / "q.jsonl", tmp_path / "s.json",
                                max_questions=6, seed=1)
    assert not (tmp_path / "q.jsonl").exists()
