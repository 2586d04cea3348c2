"""Checkpoints that survive preemption, and the signals that ask for one.

Every `save_steps` the trainer writes `<work_dir>/checkpoints/checkpoint-N`; a rerun resumes from the newest
*complete* one (a SIGKILL can land mid-save: transformers writes straight into `checkpoint-N`, with no temporary
folder, and `trainer_state.json` last). SIGTERM and SIGUSR1 (a SLURM time limit, `scancel`, `--signal`) make the
trainer save at the next step boundary and stop; the job then exits with 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

from lhama.errors import LhamaError

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
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
