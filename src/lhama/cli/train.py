"""`lhama train`, and the training launcher's entry point: `python -m lhama.cli.train ...` (what torchrun and
accelerate start once per GPU). It imports only what training needs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path, help="base model folder (lhama prepare-model)")
    parser.add_argument("--train", required=True, type=Path, help="training JSONL (instruction, input, output)")
    parser.add_argument("--eval", type=Path, help="held-out JSONL, evaluated during and after training")
    parser.add_argument("--config", required=True, type=Path,
                        help="YAML/JSON with the `train` (and optionally `prompt`) section, e.g. a workflow config")
    parser.add_argument("--out", required=True, type=Path, help="adapter (or full model) folder to write")
    parser.add_argument("--work-dir", required=True, type=Path, help="checkpoints and TensorBoard logs")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics.json to write")
    parser.add_argument("--model-name", help="name for the model card and metrics")
    parser.add_argument("--run-name", help="run name for the loggers (default: date and time)")
    parser.add_argument("--trust-remote-code", action="store_true", help="run code shipped with the model")
    parser.add_argument("--launch", action="store_true",
                        help="start through train.launcher (torchrun/accelerate, srun under SLURM) instead of here")


def forwarded_argv(args: argparse.Namespace) -> list[str]:
    """The arguments each launched process gets (all but --launch)."""
    argv = ["--model", str(args.model), "--train", str(args.train), "--config", str(args.config), "--out",
            str(args.out), "--work-dir", str(args.work_dir), "--metrics", str(args.metrics)]
    for flag, value in (("--eval", args.eval), ("--model-name", args.model_name), ("--run-name", args.run_name)):
        if value is not None:
            argv += [flag, str(value)]
    if args.trust_remote_code:
        argv.append("--trust-remote-code")
    return argv


def cmd_train(args: argparse.Namespace) -> None:
    """Here, or through the launcher with --launch. A signal-triggered stop exits with 128 + the signal number (143
    for SIGTERM) after the checkpoint is saved."""
    from lhama.train.checkpoints import TrainingInterrupted
    from lhama.train.launch import run_training
    from lhama.train.run import load_train_config, train

    config, prompt = load_train_config(args.config)
    if args.launch:
        code = run_training(config, forwarded_argv(args))
        if code:
            raise SystemExit(code)
        return
    try:
        metrics = train(config, args.model, args.train, args.eval, args.out, args.work_dir, args.metrics,
                        prompt=prompt, model_name=args.model_name, run_name=args.run_name,
                        trust_remote_code=args.trust_remote_code)
    except TrainingInterrupted as error:
        print(f"lhama train: {error}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None
    if os.environ.get("RANK", "0") != "0":
        return
    loss = metrics["eval_loss"]
    print(f"{metrics['method']}: {metrics['global_step']} steps, eval loss "
          f"{'n/a' if loss is None else f'{loss:.4f}'}, {metrics['tokens_per_second'] or 0:.1f} tokens/s -> {args.out}")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    add_arguments(parser)
    parser.set_defaults(run=cmd_train)


def main(argv: Sequence[str] | None = None) -> int:
    """`lhama train` without the `lhama` front end (the workflow's script and every launched process)."""
    from lhama.cli import run

    parser = argparse.ArgumentParser(prog="lhama train", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    configure("train", parser)
    return run(parser.parse_args(argv), "lhama train")


if __name__ == "__main__":
    sys.exit(main())
