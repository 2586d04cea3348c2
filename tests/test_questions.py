"""lhama.questions: question files read and validated; errors name the file and line."""

import json

import pytest

from lhama.errors import QuestionFileError
from lhama.questions import load_questions


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_load_questions_accepts_any_of_and_all_of(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [
        json.dumps({"id": "a", "question": "Q?", "answers": ["x", "y"], "source": "S"}),
        "",
        json.dumps({"id": "b", "question": "Q2?", "answers": [["1930", "1945"]], "reference": "r"}),
    ])
    questions = load_questions(path)
    assert [q.id for q in questions] == ["a", "b"]
    assert questions[1].answers == [["1930", "1945"]]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["{not json"], "line 1: invalid JSON"),
        ([json.dumps({"id": "a", "answers": ["x"]})], "line 1: 'question' must be a non-empty string"),
        ([json.dumps({"id": "a", "question": "Q", "answers": "x"})], "line 1: 'answers' must be a list"),
        ([json.dumps({"id": "a", "question": "Q", "answers": [[]]})], "line 1: 'answers' must be a list"),
        ([json.dumps({"id": "a", "question": "Q", "answers": []})], "needs 'answers' or a 'reference'"),
        ([json.dumps({"id": "a", "question": "Q", "answers": ["x"]})] * 2, "line 2: duplicate id 'a'"),
        ([], "no questions in file"),
        (["[1, 2]"], "line 1: expected a JSON object"),
    ],
)
def test_bad_question_files_name_file_and_line(tmp_path, lines, message):
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(QuestionFileError) as error:
        load_questions(path)
    assert str(path) in str(error.value)
    assert message in str(error.value).replace(" (", ": ").replace("): ", ": ")


def test_missing_question_file(tmp_path):
    with pytest.raises(QuestionFileError, match="not found"):
        load_questions(tmp_path / "absent.jsonl")
