"""One training run, end to end: set up the trainer, resume from the newest complete checkpoint, train, evaluate,
save the outputs and `metrics.json` (the recipe's setup / train / save)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import yaml

from lhama.config.loading import parse, to_dict
from lhama.config.sections import PromptConfig, TrainConfig
from lhama.config.sft import check_sft_args
from lhama.errors import ConfigError, InputFileError
from lhama.models import read_model_info
from lhama.provenance import environment
from lhama.train.checkpoints import (
    CHECKPOINT_DIR, TrainingInterrupted, last_complete_checkpoint, remove_incomplete_checkpoints, run_fingerprint,
    same_run, signal_handlers, start_run, tokens_in_checkpoint,
)
from lhama.train.outputs import file_record, loss_curves, peak_memory_mb, save_outputs
from lhama.train.trainer import build_trainer

log = logging.getLogger(__name__)


def load_train_config(path: str | Path) -> tuple[TrainConfig, PromptConfig]:
    """The `train` and `prompt` sections of a YAML or JSON file (a whole workflow config, or the file the train rule
    writes), checked, with `train.args` typed by HfArgumentParser."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputFileError(path, "config file does not exist") from None
    except yaml.YAMLError as error:
        raise InputFileError(path, f"not valid YAML/JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "expected a mapping with a `train` section")
    try:
        config = parse(TrainConfig, data.get("train"), "train")
        config = parse(TrainConfig, {**to_dict(config), "args": check_sft_args(config.args)}, "train")
        return config, parse(PromptConfig, data.get("prompt"), "prompt")
    except ConfigError as error:
        raise ConfigError(error.key, error.problem, source=str(path)) from None


def _model_identity(model_dir: str | Path) -> str:
    """The base model's weights digest where prepare_model recorded one, else its resolved path."""
    info = read_model_info(model_dir) or {}
    return (info.get("weights_sha256") or {}).get("sha256") or str(Path(model_dir).resolve())


def train(config: TrainConfig, model_dir: str | Path, train_file: str | Path, eval_file: str | Path | None,
          out_dir: str | Path, work_dir: str | Path, metrics_path: str | Path, *, prompt: PromptConfig | None = None,
          model_name: str | None = None, run_name: str | None = None, trust_remote_code: bool = False) -> dict:
    """Train (resuming from the newest complete checkpoint), evaluate, and write the adapter/model folder and
    metrics.json atomically. Returns the metrics. Raises `TrainingInterrupted` after a signal-triggered save."""
    started = time.perf_counter()
    prompt = prompt or PromptConfig()
    work_dir, out_dir, metrics_path = Path(work_dir), Path(out_dir), Path(metrics_path)
    run = build_trainer(config, model_dir, train_file, eval_file, work_dir, template=prompt.template,
                        run_name=run_name, trust_remote_code=trust_remote_code)
    trainer = run.trainer
    main_process = trainer.is_world_process_zero()
    checkpoints = work_dir / CHECKPOINT_DIR
    data = {"train": file_record(train_file), "eval": file_record(eval_file)}  # read once: the files are large
    fingerprint = run_fingerprint(to_dict(config), template=prompt.template, model=_model_identity(model_dir),
                                  train_data=data["train"]["sha256"])
    resume = last_complete_checkpoint(checkpoints) if same_run(checkpoints, fingerprint) else None
    trainer.accelerator.wait_for_everyone()  # every rank decided before rank 0 deletes anything
    if main_process:
        other_run = start_run(checkpoints, fingerprint)
        if other_run:
            log.warning("deleted checkpoints %s of a run with other settings, data or base model (not resumed)",
                        ", ".join(other_run))
        removed = remove_incomplete_checkpoints(checkpoints, resume)
        if removed:
            log.warning("removed incomplete checkpoints %s", ", ".join(removed))
    trainer.accelerator.wait_for_everyone()
    if resume is not None:
        log.info("resuming from %s", resume)
    tokens_before = tokens_in_checkpoint(resume)
    train_started = time.perf_counter()
    with signal_handlers(run.stop.handle):
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    train_seconds = time.perf_counter() - train_started
    if run.stop.signum:
        saved = last_complete_checkpoint(checkpoints)
        raise TrainingInterrupted(run.stop.signum, saved.name if saved else None)
    final_eval = trainer.evaluate() if trainer.eval_dataset is not None else {}
    save_outputs(run, config, out_dir, model_dir, data, model_name)
    state = trainer.state
    train_curve, eval_curve = loss_curves(state.log_history)
    tokens = int(state.num_input_tokens_seen)
    session_tokens = tokens - tokens_before
    peak, kind = peak_memory_mb()
    optim = trainer.args.optim
    metrics = {
        "model": model_name, "base_model": str(model_dir), "method": config.method,
        "run_name": trainer.args.run_name, "global_step": int(state.global_step), "max_steps": int(state.max_steps),
        "optimizer_steps": int(state.global_step),
        "train_loss_curve": train_curve, "eval_loss_curve": eval_curve,
        "eval_loss": final_eval.get("eval_loss"), "train_tokens": tokens, "session_train_tokens": session_tokens,
        "tokens_per_second": session_tokens / train_seconds if train_seconds > 0 else None,
        "train_seconds": train_seconds, "wall_seconds": time.perf_counter() - started,
        "peak_memory_mb": peak, "peak_memory_kind": kind, "resumed_from": resume.name if resume else None,
        "world_size": trainer.args.world_size, "device": str(trainer.args.device),
        "chat_template": run.use_chat, "max_length": run.max_length, "padding_free": bool(trainer.padding_free),
        "packing": bool(trainer.args.packing), "optim": str(getattr(optim, "value", optim)),
        "report_to": list(trainer.args.report_to or []), "output": str(out_dir),
        "merged": str(out_dir / "merged") if config.merge and config.method != "full" else None,
        "data": data,
        "train_rows": len(trainer.train_dataset),
        "notes": run.notes, "environment": environment(), "config": to_dict(config),
    }
    if main_process:
        from lhama.files import write_json

        write_json(metrics_path, metrics)
    trainer.accelerator.wait_for_everyone()
    return metrics
