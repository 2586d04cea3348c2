"""`lhama plan`: GPU memory and time of one fine-tuning job from flags, or of every GPU job of a config's DAG."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from lhama.plan import METHODS, OPTIMIZERS, PRECISIONS, PlanInput, estimate, jobs_table, plan_table


def _params(text: str) -> float:
    from lhama.config.values import parse_params

    try:
        return parse_params(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def cmd_plan(args: argparse.Namespace) -> None:
    if args.config:
        _plan_workflow(args)
        return
    if args.params is None or args.method is None:
        raise SystemExit("lhama plan: give --params and --method, or --config FILE to plan the workflow's jobs")
    plan = PlanInput(params=args.params, method=args.method, precision=args.precision, seq_len=args.seq_len,
                     micro_batch=args.micro_batch, gradient_checkpointing=not args.no_gradient_checkpointing,
                     gpus=args.gpus, zero_stage=args.zero_stage, offload_optimizer=args.offload_optimizer,
                     offload_params=args.offload_params, lora_r=args.lora_r, lora_fraction=args.lora_fraction,
                     optimizer=args.optimizer, gpu_mem_gb=args.gpu_mem_gb, hidden_size=args.hidden_size,
                     num_layers=args.num_layers, vocab_size=args.vocab_size, flash_attention=args.flash_attention)
    result = estimate(plan)
    if args.json:
        print(json.dumps({"input": asdict(plan), "estimate": result.to_json()}, ensure_ascii=False))
        return
    print(plan_table([plan]))
    for note in result.notes:
        print(f"  - {note}")
    print("fits" if result.fits else "does not fit")


def _plan_workflow(args: argparse.Namespace) -> None:
    from lhama.config.loading import load_config
    from lhama.dag_plan import dag_plan, dag_table
    from lhama.workflow import question_sets, workflow_plans

    config = load_config(args.config)
    plan = dag_plan(config, question_sets(config.questions))
    if args.json:
        print(json.dumps(plan.to_json(), ensure_ascii=False))
        return
    print(jobs_table(workflow_plans(config)))
    print()
    print(dag_table(plan))
    for note in plan.notes:
        print(f"  - {note}")
    print(f"cluster: {config.cluster.gpu_mem_gb:g} GB GPUs at {config.cluster.gpu_tflops:g} TFLOP/s (MFU "
          f"{config.cluster.mfu}), {config.cluster.gpu_bandwidth_gbs:g} GB/s (MBU {config.cluster.mbu}); every job "
          "fits" + (f" within {config.cluster.max_runtime_min} minutes" if config.cluster.max_runtime_min else ""))


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    defaults = PlanInput(params=1.0, method="lora")
    parser.add_argument("--config", action="append", metavar="YAML",
                        help="plan every GPU job of the workflow (embed shards, train, perplexity, answer parts, "
                             "judge) from config/config.yaml merged with these files (like snakemake --configfile); "
                             "repeatable")
    parser.add_argument("--params", type=_params, help="parameter count, e.g. 70e9 or 13B")
    parser.add_argument("--method", choices=METHODS)
    parser.add_argument("--precision", choices=PRECISIONS, default=defaults.precision)
    parser.add_argument("--gpus", type=int, default=defaults.gpus)
    parser.add_argument("--gpu-mem-gb", type=float, default=defaults.gpu_mem_gb, help="memory of one GPU, as labelled")
    parser.add_argument("--zero-stage", type=int, choices=(0, 1, 2, 3), default=defaults.zero_stage)
    parser.add_argument("--offload-optimizer", action="store_true")
    parser.add_argument("--offload-params", action="store_true")
    parser.add_argument("--seq-len", type=int, default=defaults.seq_len)
    parser.add_argument("--micro-batch", type=int, default=defaults.micro_batch)
    parser.add_argument("--no-gradient-checkpointing", action="store_true")
    parser.add_argument("--flash-attention", action="store_true")
    parser.add_argument("--lora-r", type=int, default=defaults.lora_r)
    parser.add_argument("--lora-fraction", type=float)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    parser.add_argument("--hidden-size", type=int)
    parser.add_argument("--num-layers", type=int)
    parser.add_argument("--vocab-size", type=int, default=defaults.vocab_size)
    parser.add_argument("--json", action="store_true", help="print the input and the estimate as JSON")
    parser.set_defaults(run=cmd_plan)
