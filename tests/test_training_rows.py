"""lhama.training_rows: a run reads the rows its steps take, the same ones the seen-facts set asks about."""

import json

import numpy as np
import pytest

from lhama.config.loading import parse
from lhama.config.sections import TrainConfig, WorkflowConfig
from lhama.errors import InputFileError
from lhama.train.data import read_rows
from lhama.training_rows import chosen_rows, rows_in_common, sample_records
from lhama.workflow import raft_rows, trained_row_draws


def train_config(**args) -> TrainConfig:
    return parse(TrainConfig, {"args": args}, "train")


def test_rows_trained_are_steps_times_batch_times_processes():
    assert train_config(max_steps=1000, per_device_train_batch_size=2).trained_rows() == 2000
    assert train_config(max_steps=10, per_device_train_batch_size=2, gradient_accumulation_steps=3).trained_rows() == 60
    multi = parse(TrainConfig, {"args": {"max_steps": 10, "per_device_train_batch_size": 2},
                                "launcher": {"type": "torchrun", "processes_per_node": 3}}, "train")
    assert multi.trained_rows() == 60
    assert train_config(max_steps=-1, num_train_epochs=2).trained_rows() is None  # set by epochs: every row
    assert train_config(packing=True).trained_rows() is None  # packed rows: how many fit a step is not known
    assert train_config(seed=3).row_seed() == 3 and train_config(seed=3, data_seed=5).row_seed() == 5


def test_chosen_rows_are_seeded_nested_and_every_row_when_the_run_takes_more():
    first = chosen_rows(1000, 100, seed=7)
    assert len(first) == len(set(first)) == 100 and list(first) == sorted(first)
    assert np.array_equal(first, chosen_rows(1000, 100, seed=7))
    assert not np.array_equal(first, chosen_rows(1000, 100, seed=8))
    assert set(first) <= set(chosen_rows(1000, 300, seed=7))  # a longer run's rows hold a shorter run's
    assert set(first) > {row for row in first if row < 100} and max(first) > 500  # drawn over the whole split
    assert np.array_equal(chosen_rows(50, 100, seed=7), np.arange(50)) and np.array_equal(
        chosen_rows(50, None, seed=7), np.arange(50))
    assert np.array_equal(rows_in_common(1000, [(300, 7), (100, 7)]), first)
    other = rows_in_common(1000, [(100, 7), (100, 8)])
    assert set(other) == set(first) & set(chosen_rows(1000, 100, seed=8))


def write_rows(path, count, blank_every=0):
    lines = []
    for number in range(count):
        lines.append(json.dumps({"input": f"pergunta {number}", "output": f"resposta {number}"}))
        if blank_every and number % blank_every == 0:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_train_job_reads_only_the_rows_it_takes(tmp_path):
    path = tmp_path / "train.jsonl"
    write_rows(path, 200, blank_every=7)  # blank lines are not rows
    rows = read_rows(path, take=20, seed=3)
    expected = [f"resposta {number}" for number in chosen_rows(200, 20, seed=3)]
    assert [row["output"] for row in rows] == expected
    assert len(read_rows(path, take=500, seed=3)) == 200
    assert [row["output"] for row in read_rows(path, first=3)] == ["resposta 0", "resposta 1", "resposta 2"]
    records, count = sample_records(path, 5, seed=3)
    assert count == 200 and all(isinstance(number, int) for number, _ in records)


def test_a_bad_chosen_row_is_named_by_its_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"input": "a", "output": "b"}\n{"input": "a", "output": ""}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"\(line 3\): invalid JSON"):
        read_rows(path, take=3, seed=0)  # every row taken: the file's own order
    with pytest.raises(InputFileError, match=r"\(line 2\): expected an object"):
        read_rows(path, first=2)
    with pytest.raises(InputFileError, match="does not exist"):
        read_rows(tmp_path / "missing.jsonl", take=2, seed=0)


def test_the_workflow_draws_follow_every_models_training():
    config = parse(WorkflowConfig, {
        "dump": "d.xml", "questions": ["q.jsonl"],
        "train": {"args": {"max_steps": 10, "per_device_train_batch_size": 2}},
        "raft": {"args": {"max_steps": 3, "per_device_train_batch_size": 1}, "eval_examples": 4, "seed": 9},
        "models": {"small": {"source": "a", "params": 1e8},
                   "big": {"source": "b", "params": 7e10, "train": {"launcher": {
                       "type": "torchrun", "processes_per_node": 3}}}}}, source="test.yaml")
    assert trained_row_draws(config) == [[20, 42], [60, 42]]
    assert raft_rows(config) == {"train_rows": 9, "eval_rows": 4}
