"""`lhama perplexity`: held-out perplexity and bits per byte of a base model and its adapter."""

from __future__ import annotations

import argparse
from pathlib import Path

from lhama.cli.common import config_section
from lhama.config.sections import PerplexityConfig


def cmd_perplexity(args: argparse.Namespace) -> None:
    from lhama.config.loading import parse, to_dict
    from lhama.perplexity import heldout_perplexity

    keys = ("max_articles", "max_tokens", "seed", "max_length", "stride", "batch_size", "max_chars")
    overrides = {key: getattr(args, key) for key in keys if getattr(args, key) is not None}
    config = parse(PerplexityConfig, to_dict(config_section(args.config, "perplexity", PerplexityConfig)) | overrides,
                   "perplexity")
    result = heldout_perplexity(args.model, args.articles, args.test, args.out, adapter_dir=args.adapter,
                                trust_remote_code=args.trust_remote_code, config=config)
    for name in ("base", "tuned"):
        if result[name]:
            print(f"{name}: perplexity {result[name]['ppl']:.2f}, {result[name]['bits_per_byte']:.3f} bits/byte "
                  f"over {result[name]['tokens']} tokens of {result['articles']} articles")
    print(f"-> {args.out}")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path, help="base model folder")
    parser.add_argument("--adapter", type=Path, help="PEFT adapter folder: also score the tuned model")
    parser.add_argument("--articles", required=True, type=Path, help="articles folder (lhama extract)")
    parser.add_argument("--test", required=True, type=Path, help="test split JSONL (its source_id articles)")
    parser.add_argument("--out", required=True, type=Path, help="JSON to write")
    parser.add_argument("--config", help="workflow config YAML whose `perplexity` section is used")
    parser.add_argument("--max-articles", type=int)
    parser.add_argument("--max-tokens", type=int, help="token budget over the sampled articles")
    parser.add_argument("--seed", type=int, help="seed of the article sample")
    parser.add_argument("--max-length", type=int, help="tokens per window")
    parser.add_argument("--stride", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--max-chars", type=int, help="characters kept per article")
    parser.add_argument("--trust-remote-code", action="store_true")
    parser.set_defaults(run=cmd_perplexity)
