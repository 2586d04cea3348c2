import pytest
from sklearn.model_selection import train_test_split

from lhama.errors import LhamaError
from lhama.split import split_examples

EXAMPLES = [{"id": f"{article}-{n}", "source_id": article} for article in range(30) for n in range(4)]


def test_pair_split_is_the_studys_particiona():
    train, test, report = split_examples(EXAMPLES, by="pair", test_size=0.1, seed=42)
    expected_train, expected_test = train_test_split(EXAMPLES, test_size=0.1, random_state=42)
    assert train == expected_train and test == expected_test
    assert (report.train, report.test) == (108, 12)
    # splitting by pair leaks articles: the report counts it
    assert report.test_with_train_article == sum(e["source_id"] in {t["source_id"] for t in train} for e in test) > 0


def test_article_split_has_no_leakage_and_is_deterministic():
    train, test, report = split_examples(EXAMPLES, by="article", seed=42)
    assert report.test_with_train_article == 0
    assert {e["source_id"] for e in train}.isdisjoint({e["source_id"] for e in test})
    assert len(train) + len(test) == len(EXAMPLES)
    again = split_examples(EXAMPLES, by="article", seed=42)
    assert (train, test) == again[:2]
    other = split_examples(EXAMPLES, by="article", seed=7)
    assert other[1] != test


@pytest.mark.parametrize(("examples", "kwargs", "message"), [
    (EXAMPLES[:1], {}, "need at least 2"),
    (EXAMPLES, {"test_size": 1.5}, "between 0 and 1"),
    (EXAMPLES[:4], {"by": "article"}, "one article"),
    (EXAMPLES, {"by": "title"}, "'pair' or 'article'"),
])
def test_bad_split_requests(examples, kwargs, message):
    with pytest.raises(LhamaError, match=message):
        split_examples(examples, **kwargs)


@pytest.mark.parametrize("by", ["pair", "article"])
def test_the_streamed_split_of_a_file_is_the_in_memory_split(tmp_path, by):
    import json

    from lhama.config.sections import SplitConfig
    from lhama.split import write_split

    examples = [dict(example, input=f"Pergunta {n}?", output="é " * (n % 7), answers=[str(n)],
                     source_title=f"Artigo {example['source_id']}") for n, example in enumerate(EXAMPLES)]
    source = tmp_path / "examples.jsonl"
    source.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    report = write_split(source, tmp_path, SplitConfig(by=by, test_size=0.2, seed=3))
    train, test, expected = split_examples(examples, by=by, test_size=0.2, seed=3)
    read = lambda name: [json.loads(line) for line in (tmp_path / name).read_text(encoding="utf-8").splitlines()]  # noqa: E731
    assert read("train.jsonl") == train and read("test.jsonl") == test and report == expected
    assert [question["id"] for question in read("test_questions.jsonl")] == [example["id"] for example in test]


def test_a_line_without_its_article_is_named(tmp_path):
    from lhama.errors import InputFileError
    from lhama.split import write_split

    source = tmp_path / "examples.jsonl"
    source.write_text('{"id": "a", "source_id": 1}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 2"):
        write_split(source, tmp_path)
    assert not (tmp_path / "train.jsonl").exists()
