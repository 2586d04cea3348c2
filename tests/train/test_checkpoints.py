"""lhama.train.checkpoints: incomplete checkpoints are skipped and removed; a training killed (SIGKILL) or stopped
(SIGTERM) resumes from its newest complete checkpoint and ends with exactly max_steps steps. Real subprocesses of
the training entry point, on the tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from lhama.train.checkpoints import (
    RUN_FILE, checkpoint_is_complete, last_complete_checkpoint, remove_incomplete_checkpoints, run_fingerprint,
    same_run, start_run,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": str(ROOT / "src")}


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


def test_fingerprint_covers_what_the_weights_depend_on():
    train = {"method": "lora", "lora": {"r": 8}, "merge": False, "eval_examples": 4,
             "args": {"learning_rate": 1e-3, "max_steps": 4, "logging_steps": 1, "save_steps": 2}}
    base = run_fingerprint(train, template="t", model="m", train_data="d")
    changed = [
        run_fingerprint({**train, "args": {**train["args"], "learning_rate": 2e-3}}, template="t", model="m",
                        train_data="d"),
        run_fingerprint({**train, "args": {**train["args"], "max_steps": 8}}, template="t", model="m", train_data="d"),
        run_fingerprint({**train, "lora": {"r": 16}}, template="t", model="m", train_data="d"),
        run_fingerprint(train, template="other", model="m", train_data="d"),
        run_fingerprint(train, template="t", model="other", train_data="d"),
        run_fingerprint(train, template="t", model="m", train_data="other"),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    unchanged = [
        run_fingerprint({**train, "args": {**train["args"], "logging_steps": 50, "save_steps": 20}}, template="t",
                        model="m", train_data="d"),
        run_fingerprint({**train, "merge": True, "eval_examples": 16}, template="t", model="m", train_data="d"),
    ]
    assert set(unchanged) == {base}


def test_checkpoints_of_another_run_are_deleted_not_resumed(tmp_path):
    fake_checkpoint(tmp_path, 2)
    assert not same_run(tmp_path, "a")  # no run file: checkpoints of unknown settings
    assert start_run(tmp_path, "a") == ["checkpoint-2"] and not list(tmp_path.glob("checkpoint-*"))
    assert same_run(tmp_path, "a") and json.loads((tmp_path / RUN_FILE).read_text()) == {"fingerprint": "a"}
    fake_checkpoint(tmp_path, 4)
    assert start_run(tmp_path, "a") == [] and last_complete_checkpoint(tmp_path).name == "checkpoint-4"
    assert not same_run(tmp_path, "b") and start_run(tmp_path, "b") == ["checkpoint-4"] and same_run(tmp_path, "b")
    (tmp_path / RUN_FILE).write_text("[1, 2]")  # not a mapping
    assert not same_run(tmp_path, "b")
    assert start_run(tmp_path / "new", "c") == [] and same_run(tmp_path / "new", "c")


def start_training(model_dir: Path, data: tuple[Path, Path], tmp_path: Path, config: dict) -> subprocess.Popen:
    config_file = tmp_path / "train.json"
    config_file.write_text(json.dumps(config))
    argv = ["--model", str(model_dir), "--train", str(data[0]), "--eval", str(data[1]), "--config", str(config_file),
            "--out", str(tmp_path / "adapter"), "--work-dir", str(tmp_path / "work"),
            "--metrics", str(tmp_path / "metrics.json")]
    log = open(tmp_path / "train.log", "a")
    return subprocess.Popen([sys.executable, "-m", "lhama.cli.train", *argv], env=ENV, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_for(predicate, process: subprocess.Popen, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"training exited ({process.returncode}) before the expected checkpoint")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for a checkpoint")
        time.sleep(0.02)


def complete_steps(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(p.name.split("-")[1]) for p in folder.glob("checkpoint-*") if checkpoint_is_complete(p))


def test_kill_and_resume(tiny_model_dir, data, tmp_path):
    # steps slow enough to signal between two checkpoints: a longer sequence on the tiny model
    config = {"train": {"lora": {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]},
                        "args": {"max_steps": 40, "per_device_train_batch_size": 2, "learning_rate": 1e-3,
                                 "save_steps": 5, "eval_strategy": "no", "logging_steps": 1, "max_length": 128,
                                 "report_to": "none"}}}
    checkpoints = tmp_path / "work" / "checkpoints"

    # 1. SIGKILL once two checkpoints are complete, then cut the newest short as if killed mid-save
    process = start_training(tiny_model_dir, data, tmp_path, config)
    wait_for(lambda: len(complete_steps(checkpoints)) >= 2, process)
    process.kill()
    assert process.wait(60) == -signal.SIGKILL
    steps = complete_steps(checkpoints)
    (checkpoints / f"checkpoint-{steps[-1]}" / "optimizer.pt").unlink()
    expected = f"checkpoint-{steps[-2]}"
    assert last_complete_checkpoint(checkpoints).name == expected

    # 2. rerun; SIGTERM once it wrote a checkpoint newer than where it resumed: it saves at the next step and exits
    process = start_training(tiny_model_dir, data, tmp_path, config)
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
    process = start_training(tiny_model_dir, data, tmp_path, config)
    assert process.wait(300) == 0, (tmp_path / "train.log").read_text()[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["resumed_from"] == resumed
    assert metrics["global_step"] == 40
    assert [p["step"] for p in metrics["train_loss_curve"]] == list(range(1, 41))
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
