"""`lhama answer | evaluate`: one model variant answers a question file; answer files are scored."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from lhama.cli.common import config_section
from lhama.config.sections import VARIANTS, EvaluateConfig, GenerationConfig, PromptConfig, RagConfig, RetrievalSettings
from lhama.errors import ConfigError


def cmd_answer(args: argparse.Namespace) -> None:
    from lhama.answer import write_answers

    retrieval = RetrievalSettings.of(config_section(args.config, "rag", RagConfig))
    if args.k is not None:
        retrieval = dataclasses.replace(retrieval, retriever=dataclasses.replace(retrieval.retriever, k=args.k))
    summary = write_answers(args.model, args.questions, args.out, variant=args.variant,
                            decoding=config_section(args.config, "generation", GenerationConfig),
                            prompt=config_section(args.config, "prompt", PromptConfig), adapter_dir=args.adapter,
                            index_dir=args.index, retrieval=retrieval, model_name=args.model_name,
                            questions_name=args.questions_name, dtype=args.dtype, device=args.device,
                            chat_template=False if args.no_chat_template else None, progress=not args.no_progress)
    print(f"{summary['n']} answers ({summary['model']}, {summary['variant']}, {summary['questions']}) -> {args.out}; "
          f"{summary['new_tokens']} new tokens in {summary['generation_seconds']:.1f} s "
          f"({summary['tokens_per_second']:.1f} tokens/s)")


def _named_paths(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ConfigError(option, f"expected NAME=FILE, got {value!r}")
        out[name] = path
    return out


def cmd_evaluate(args: argparse.Namespace) -> None:
    from lhama.evaluate import evaluate_files

    out = Path(args.out_dir)
    config = config_section(args.config, "evaluate", EvaluateConfig)
    summary = evaluate_files(args.answers, out / "metrics.tsv", out / "scores.jsonl", out / "comparisons.tsv",
                             retrieval=_named_paths(args.retrieval, "--retrieval"),
                             perplexity=_named_paths(args.perplexity, "--perplexity"),
                             resamples=config.resamples, seed=config.seed)
    print(f"{summary['answers']} answers in {summary['groups']} model/variant/question-set groups, "
          f"{summary['comparisons']} paired comparisons -> {out}")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "answer":
        parser.add_argument("--model", type=Path, required=True, help="model folder (`lhama prepare-model`)")
        parser.add_argument("--questions", type=Path, required=True, help="question file (JSONL)")
        parser.add_argument("--variant", choices=VARIANTS, required=True)
        parser.add_argument("--out", type=Path, required=True, help="answers JSONL (a .summary.json beside it)")
        parser.add_argument("--adapter", type=Path, help="PEFT adapter folder (tuned, tuned_rag)")
        parser.add_argument("--index", type=Path, help="retrieval index folder, `lhama index` (rag, tuned_rag)")
        parser.add_argument("--config", help="workflow config YAML whose `generation`, `prompt` and `rag` "
                                             "sections are used (their defaults without one)")
        parser.add_argument("-k", type=int, help="passages per question (rag variants; default: rag.retriever.k)")
        parser.add_argument("--model-name", help="model name in the rows (default: the folder's recorded name)")
        parser.add_argument("--questions-name", help="question-set name in the rows (default: the file stem)")
        parser.add_argument("--no-chat-template", action="store_true", help="plain prompts even with a template")
        parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
        parser.add_argument("--device", default="auto")
        parser.add_argument("--no-progress", action="store_true")
        parser.set_defaults(run=cmd_answer)
    else:
        parser.add_argument("--answers", nargs="+", required=True, help="answer JSONL files (`lhama answer`)")
        parser.add_argument("--retrieval", action="append", metavar="SET=FILE",
                            help="retrieval JSON of a question set (results/rag/retrieval/SET.json); repeatable")
        parser.add_argument("--perplexity", action="append", metavar="MODEL=FILE",
                            help="held-out perplexity JSON of a model; repeatable")
        parser.add_argument("--out-dir", type=Path, required=True)
        parser.add_argument("--config", help="workflow config YAML whose `evaluate` section is used")
        parser.set_defaults(run=cmd_evaluate)
