"""Checkpoints that survive preemption, and the signals that ask for one.

Every `save_steps` the trainer writes `<work_dir>/checkpoints/checkpoint-N`; a rerun resumes from the newest
*complete* one (a SIGKILL can land mid-save: transformers writes straight into `checkpoint-N`, with no temporary
folder, and `trainer_state.json` last), and only when it trains the same thing: `checkpoints/run.json` holds a
digest of what the weights depend on (`run_fingerprint`), and checkpoints of a run with other settings, data or base
model are deleted instead of resumed (a changed `train.args.learning_rate` reruns the train job, which must not
carry on from the old run's last step). SIGTERM and SIGUSR1 (a SLURM time limit, `scancel`, `--signal`) make the
trainer save at the next step boundary and stop; the job then exits with 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

from lhama.errors import LhamaError
from lhama.files import write_json

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"
# SFTConfig fields that change what is logged, saved or evaluated, not the trained weights: a rerun that changes only
# these resumes (from the last step: nothing to train again)
NOT_IN_WEIGHTS = frozenset({
    "logging_steps", "logging_strategy", "logging_first_step", "logging_dir", "save_steps", "save_strategy",
    "save_total_limit", "eval_steps", "eval_strategy", "per_device_eval_batch_size", "eval_accumulation_steps",
    "report_to", "disable_tqdm", "run_name", "dataloader_num_workers", "output_dir"})
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
INTERRUPT_SIGNALS = ("SIGTERM", "SIGUSR1")


def checkpoint_is_complete(folder: str | Path) -> bool:
    """A checkpoint a SIGKILL did not cut short: trainer state (written last) readable, weights, optimizer,
    scheduler and RNG state present (DeepSpeed keeps model and optimizer in a `global_step*` folder with `latest`)."""
    folder = Path(folder)
    state = folder / "trainer_state.json"
    try:
        json.loads(state.read_text(encoding="utf-8"))
        names = {entry.name for entry in folder.iterdir()}
    except (OSError, ValueError):  # unreadable, or removed meanwhile (rotated by save_total_limit, cleaned up)
        return False
    deepspeed = "latest" in names and any(name.startswith("global_step") for name in names)
    weights = deepspeed or any(name in names for name in (
        "adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
        "pytorch_model.bin", "pytorch_model.bin.index.json"))
    optimizer = deepspeed or "optimizer.pt" in names or "optimizer.bin" in names
    scheduler = deepspeed or "scheduler.pt" in names
    rng = any(name.startswith("rng_state") and name.endswith(".pth") for name in names)
    return weights and optimizer and scheduler and rng


def last_complete_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete `checkpoint-N` under `folder` (transformers' `get_last_checkpoint` picks the newest by
    name, complete or not: incomplete ones are skipped here, newest first)."""
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(folder)
    if not folder.is_dir():
        return None
    newest = get_last_checkpoint(str(folder))
    if newest is not None and checkpoint_is_complete(newest):
        return Path(newest)
    for step, path in sorted(_checkpoints(folder), reverse=True):
        if checkpoint_is_complete(path):
            return path
        log.warning("skipping incomplete checkpoint %s (interrupted while saving)", path)
    return None


def _checkpoints(folder: Path) -> list[tuple[int, Path]]:
    return [(int(match.group(1)), entry) for entry in folder.iterdir()
            if entry.is_dir() and (match := _CHECKPOINT.match(entry.name))]


def remove_incomplete_checkpoints(folder: str | Path, resume: Path | None) -> list[str]:
    """Delete the incomplete checkpoints newer than the one resumed from (the rerun writes them again; left in
    place, a later `get_last_checkpoint` would pick them)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    since = int(_CHECKPOINT.match(resume.name).group(1)) if resume is not None else -1
    removed = []
    for step, path in sorted(_checkpoints(folder)):
        if step > since and not checkpoint_is_complete(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def run_fingerprint(train: dict, *, template: str, model: str, train_data: str) -> str:
    """sha256 over what a training run's weights depend on: the `train` section (without `NOT_IN_WEIGHTS`
    arguments, the merged-copy switch and the eval rows), the prompt template, the base model's identity (its
    weights' digest where prepare_model recorded one) and the training file's digest."""
    settings = {key: value for key, value in train.items() if key not in ("merge", "eval_examples")}
    settings["args"] = {key: value for key, value in train.get("args", {}).items() if key not in NOT_IN_WEIGHTS}
    text = json.dumps({"train": settings, "template": template, "model": model, "train_data": train_data},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def same_run(folder: str | Path, fingerprint: str) -> bool:
    """Whether the checkpoints under `folder` were written by a run with this fingerprint (no run file: no)."""
    try:
        return json.loads((Path(folder) / RUN_FILE).read_text(encoding="utf-8")).get("fingerprint") == fingerprint
    except (OSError, ValueError, AttributeError):
        return False


def start_run(folder: str | Path, fingerprint: str) -> list[str]:
    """Where the checkpoints under `folder` belong to another run: delete them and record this run's fingerprint.
    Returns the checkpoints deleted (main process only: every rank must have decided not to resume first)."""
    folder = Path(folder)
    if same_run(folder, fingerprint):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    removed = []
    for step, path in sorted(_checkpoints(folder)):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    write_json(folder / RUN_FILE, {"fingerprint": fingerprint})
    return removed


def tokens_in_checkpoint(checkpoint: Path | None) -> int:
    if checkpoint is None:
        return 0
    try:
        return int(json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
                   .get("num_input_tokens_seen", 0))
    except (OSError, ValueError):
        return 0


# ---------------------------------------------------------------------------------------------------- signals


class TrainingInterrupted(LhamaError):
    """Training stopped on a signal after saving a checkpoint; rerun to resume."""

    def __init__(self, signum: int, checkpoint: str | None) -> None:
        self.signum = signum
        self.checkpoint = checkpoint
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} after saving {checkpoint or 'no checkpoint'}; "
                         "rerun the same command to resume")

    def __reduce__(self):
        return type(self), (self.signum, self.checkpoint)


def stop_callback():
    from transformers import TrainerCallback

    class StopOnSignal(TrainerCallback):
        """Remembers SIGTERM/SIGUSR1 and, at the next step boundary, asks the trainer to save and stop. Under
        several processes the ranks agree (max over ranks) so all of them stop at the same step: saving is a
        collective under ZeRO-3, and a rank that stopped alone would hang the others."""

        def __init__(self) -> None:
            self.signum: int | None = None

        def handle(self, signum: int, frame) -> None:
            if self.signum is None:
                log.warning("received %s: saving a checkpoint at the next step boundary, then stopping",
                            signal.Signals(signum).name)
            self.signum = signum

        def _agreed(self, args) -> int:
            import torch
            import torch.distributed as dist

            local = self.signum or 0
            if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
                value = torch.tensor([local], dtype=torch.int64, device=args.device)
                dist.all_reduce(value, op=dist.ReduceOp.MAX)
                local = int(value.item())
            if local and self.signum is None:
                self.signum = local
            return local

        def on_step_end(self, args, state, control, **kwargs):
            if self._agreed(args):
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopOnSignal()


@contextlib.contextmanager
def signal_handlers(handler: Callable) -> Iterator[None]:
    """Route SIGTERM and SIGUSR1 to `handler` for the duration of training (main thread only)."""
    previous = {}
    try:
        for name in INTERRUPT_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handler)
    except ValueError:  # not the main thread: leave default handling
        pass
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
