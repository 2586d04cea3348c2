"""lhama.train.run: a LoRA, QLoRA and full fine-tune on the CPU write what they promise (adapter or model, model
card, metrics), DeepSpeed ZeRO-3 across two processes included; bad configs fail naming the key. The tiny model
keeps every run to seconds: these test the mechanics; the demo run trains the real model."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lhama.config.loading import parse, to_dict
from lhama.config.sections import PromptConfig, TrainConfig
from lhama.errors import ConfigError
from lhama.train.launch import launch_command
from lhama.train.run import load_train_config, train
from training_data import small_config

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": str(ROOT / "src")}


def test_lora_training_writes_adapter_card_and_metrics(tiny_model_dir, data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    train_file, eval_file = data
    out, metrics_path = tmp_path / "adapter", tmp_path / "metrics.json"
    config = small_config(max_steps=4, eval_strategy="steps", eval_steps=2, save_steps=2)
    metrics = train(config, tiny_model_dir, train_file, eval_file, out, tmp_path / "work", metrics_path,
                    model_name="tiny")
    assert json.loads(metrics_path.read_text()) == json.loads(json.dumps(metrics))
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "README.md"):
        assert (out / name).is_file()
    assert not list(tmp_path.glob(".adapter.tmp*"))
    card = (out / "README.md").read_text()
    assert "sha256" in card and metrics["data"]["train"]["sha256"] in card and "lora" in card and '"r": 8' in card
    assert metrics["global_step"] == metrics["optimizer_steps"] == 4 and metrics["resumed_from"] is None
    assert [p["step"] for p in metrics["train_loss_curve"]] == [1, 2, 3, 4]
    assert [p["step"] for p in metrics["eval_loss_curve"]] == [2, 4]
    assert metrics["eval_loss"] is not None and metrics["train_tokens"] > 0 and metrics["tokens_per_second"] > 0
    assert metrics["peak_memory_kind"] == "rss" and metrics["peak_memory_mb"] > 100
    assert metrics["wall_seconds"] > 0 and metrics["method"] == "lora" and metrics["config"]["lora"]["r"] == 8
    assert metrics["environment"]["packages"]["transformers"] and metrics["environment"]["hardware"]["cpus"]
    first_train, last_train = metrics["train_loss_curve"][0]["loss"], metrics["train_loss_curve"][-1]["loss"]
    assert metrics["eval_loss"] < metrics["eval_loss_curve"][0]["loss"] or last_train < first_train
    assert (tmp_path / "work" / "checkpoints" / "checkpoint-2").is_dir()
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), out)
    assert any("lora_A" in name for name, _ in tuned.named_parameters())


def test_a_rerun_resumes_only_the_same_training(tiny_model_dir, data, tmp_path):
    """The same settings resume from the last checkpoint (nothing left to train); a changed learning rate starts
    afresh (the old run's checkpoints deleted), as Snakemake reruns the job when `train.args` change."""
    train_file, eval_file = data
    work = tmp_path / "work"

    def run(config):
        return train(config, tiny_model_dir, train_file, eval_file, tmp_path / "adapter", work,
                     tmp_path / "metrics.json")

    first = run(small_config(max_steps=2, save_steps=1))
    assert first["resumed_from"] is None and first["global_step"] == 2
    again = run(small_config(max_steps=2, save_steps=2, logging_steps=5))  # logging and saving only: the same run
    assert again["resumed_from"] == "checkpoint-2" and again["session_train_tokens"] == 0
    changed = run(small_config(max_steps=2, save_steps=1, learning_rate=1e-4))
    assert changed["resumed_from"] is None and changed["global_step"] == 2 and changed["session_train_tokens"] > 0
    # the first step trains at the warm-up learning rate, 0: the runs part from the second
    assert changed["train_loss_curve"][0]["loss"] == pytest.approx(first["train_loss_curve"][0]["loss"])
    assert changed["eval_loss"] != pytest.approx(first["eval_loss"])


def test_qlora_trains_on_cpu(tiny_model_dir, data, tmp_path):
    train_file, eval_file = data
    lora = small_config("qlora")
    config = parse(TrainConfig, {**to_dict(lora), "args": {**lora.args, "max_steps": 2, "eval_strategy": "steps",
                                                           "eval_steps": 1}}, "train")
    metrics = train(config, tiny_model_dir, train_file, eval_file, tmp_path / "adapter", tmp_path / "work",
                    tmp_path / "metrics.json")
    assert metrics["method"] == "qlora" and metrics["global_step"] == 2 and metrics["optim"] == "adamw_torch"
    assert len(metrics["eval_loss_curve"]) == 2 and all(p["loss"] == p["loss"] for p in metrics["train_loss_curve"])
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()


def test_full_fine_tune_runs(tiny_model_dir, data, tmp_path):
    train_file, eval_file = data
    config = small_config("full", max_steps=2, learning_rate=1e-5, optim="adafactor", per_device_train_batch_size=2)
    metrics = train(config, tiny_model_dir, train_file, eval_file, tmp_path / "model", tmp_path / "work",
                    tmp_path / "metrics.json")
    assert metrics["global_step"] == 2 and metrics["eval_loss"] is not None
    assert (tmp_path / "model" / "model.safetensors").is_file() and (tmp_path / "model" / "config.json").is_file()
    assert "library_name: transformers" in (tmp_path / "model" / "README.md").read_text()


def test_plain_prompt_template_without_chat_template(tiny_model_dir, data, tmp_path):
    """A model without a chat template is trained on `prompt.template`, which the card records."""
    import shutil

    plain = tmp_path / "plain-model"
    shutil.copytree(tiny_model_dir, plain)
    tokenizer_config = json.loads((plain / "tokenizer_config.json").read_text())
    tokenizer_config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    template = "### Pergunta\n{instruction}\n{input}\n### Resposta\n"
    metrics = train(small_config(max_steps=1), plain, *data, tmp_path / "adapter", tmp_path / "work",
                    tmp_path / "metrics.json", prompt=PromptConfig(template=template))
    assert metrics["chat_template"] is False
    assert json.dumps(template) in (tmp_path / "adapter" / "README.md").read_text()


@pytest.mark.parametrize(("text", "key"), [
    ("train:\n  lora: {r: -1}\n", "train.lora.r"),
    ("train:\n  args: {learning_rat: 1.0e-4}\n", "train.args.learning_rat"),
    ("train:\n  args: {learning_rate: fast}\n", "train.args.learning_rate"),
    ("prompt:\n  template: '### {question}'\n", "prompt.template"),
])
def test_train_config_files_name_the_bad_key(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_train_config(path)
    assert caught.value.key == key and str(path) in str(caught.value)


def test_study_config_file_loads_typed():
    config, prompt = load_train_config(ROOT / "config" / "atena.yaml")
    assert config.method == "qlora" and config.args["learning_rate"] == 1e-5 and config.args["optim"] == "adafactor"
    assert config.lora.r == 32 and prompt == PromptConfig()


@pytest.mark.serial  # two training processes on two cores
def test_deepspeed_zero3_two_processes_on_cpu(tiny_model_dir, data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = {"train": {"launcher": {"type": "torchrun", "processes_per_node": 2},
                        "deepspeed": str(ROOT / "config" / "deepspeed" / "zero3.json"),
                        "lora": {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
                        "args": {"max_steps": 2, "per_device_train_batch_size": 2, "learning_rate": 1e-3,
                                 "save_steps": 2, "eval_strategy": "no", "logging_steps": 1, "max_length": 128,
                                 "report_to": "none"}}}
    config_file = tmp_path / "train.json"
    config_file.write_text(json.dumps(config))
    argv = ["--model", str(tiny_model_dir), "--train", str(data[0]), "--eval", str(data[1]),
            "--config", str(config_file), "--out", str(tmp_path / "adapter"), "--work-dir", str(tmp_path / "work"),
            "--metrics", str(tmp_path / "metrics.json")]
    command = launch_command(parse(TrainConfig, config["train"], "train"), argv, {})
    assert command[-len(argv) - 2:-len(argv)] == ["-m", "lhama.cli.train"]
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=480)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_step"] == 2
    assert (tmp_path / "work" / "checkpoints" / "checkpoint-2" / "latest").is_file()  # DeepSpeed checkpoint
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), tmp_path / "adapter")
    weights = [p for name, p in tuned.named_parameters() if "lora_A" in name]
    assert weights and all(p.numel() > 0 for p in weights)  # gathered from the ZeRO-3 shards, not empty stubs
