"""lhama.config.sft: train.args checked by transformers' own HfArgumentParser over TRL's SFTConfig."""

import json

import pytest

from lhama.config.sections import DEFAULT_TRAIN_ARGS
import lhama.config.sft as sft
from lhama.config.sft import check_sft_args
from lhama.errors import ConfigError


@pytest.mark.parametrize(("args", "key", "problem"), [
    ({"learning_rat": 1e-4}, "train.args.learning_rat", "not an SFTConfig/TrainingArguments field"),
    ({"learning_rate": "fast"}, "train.args.learning_rate", "invalid float value: 'fast'"),
    ({"optim": "sgd_turbo"}, "train.args.optim", "invalid choice: 'sgd_turbo'"),
    ({"lr_scheduler_type": "cosinus"}, "train.args.lr_scheduler_type", "invalid choice"),
    ({"bf16": "maybe"}, "train.args.bf16", "bf16"),
    ({"output_dir": "/tmp/x"}, "train.args.output_dir", "set by lhama"),
    ({"max_steps": 10, "eval_strategy": "steps", "load_best_model_at_end": True, "save_strategy": "epoch"}, "train.args",
     "load_best_model_at_end"),
])
def test_bad_keys_and_values_are_named(args, key, problem):
    with pytest.raises(ConfigError) as caught:
        check_sft_args(args)
    assert caught.value.key == key and problem in caught.value.problem


def test_values_come_back_typed_and_the_result_is_cached(tmp_path):
    cache = tmp_path / "cache.json"
    args = {**DEFAULT_TRAIN_ARGS, "learning_rate": "1e-5", "max_steps": "100", "bf16": "true", "optim": "auto",
            "report_to": ["tensorboard"], "gradient_checkpointing_kwargs": {"use_reentrant": False}}
    typed = check_sft_args(args, cache=cache)
    assert typed["learning_rate"] == 1e-5 and typed["max_steps"] == 100 and typed["bf16"] is True
    assert typed["optim"] == "auto" and typed["report_to"] == ["tensorboard"]
    assert typed["gradient_checkpointing_kwargs"] == {"use_reentrant": False}
    assert list(typed) == list(args)
    assert list(json.loads(cache.read_text()).values()) == [typed]
    assert check_sft_args(args, cache=cache) == typed


def test_the_cache_is_the_users_and_keeps_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert sft.user_cache_file() == tmp_path / "xdg/lhama/sft-args.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sft.user_cache_file() == tmp_path / "home/.cache/lhama/sft-args.json"
    cache = tmp_path / "cache.json"
    monkeypatch.setattr(sft, "CACHE_ENTRIES", 2)
    for steps in (1, 2, 3, 1):
        check_sft_args({"max_steps": steps}, cache=cache)
    assert [entry["max_steps"] for entry in json.loads(cache.read_text()).values()] == [3, 1]


def test_a_cached_result_is_keyed_by_the_libraries_versions(tmp_path, monkeypatch):
    cache = tmp_path / "cache.json"
    check_sft_args({"max_steps": 5}, cache=cache)
    monkeypatch.setattr(sft, "_version", lambda name: "0.0-other")
    check_sft_args({"max_steps": 5}, cache=cache)
    assert len(json.loads(cache.read_text())) == 2
