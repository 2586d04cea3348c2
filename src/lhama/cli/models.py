"""`lhama prepare-model | generate | ask`: model folders, raw generation, and one question through the answer
stage."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from lhama.cli.common import config_section
from lhama.config.sections import GenerationConfig, PromptConfig, RagConfig, RetrievalSettings


def cmd_prepare_model(args: argparse.Namespace) -> None:
    from lhama.config.loading import ModelSpec
    from lhama.config.values import parse_params
    from lhama.errors import ConfigError
    from lhama.models import prepare_model

    try:
        params = None if args.params is None else parse_params(args.params)
    except ValueError as error:
        raise ConfigError("--params", str(error)) from None
    spec = ModelSpec(name=args.name, source=args.source, params=params, trust_remote_code=args.trust_remote_code,
                     revision=args.revision)
    info = prepare_model(spec, args.out)
    counted = f"{info['params'] / 1e6:.1f}M params" if info.get("params") else "params unknown"
    print(f"{spec.name}: {info['architecture']}, {counted}, {info['dtype']} -> {args.out}")


def _decoding(args: argparse.Namespace) -> GenerationConfig:
    from lhama.config.loading import parse, to_dict

    decoding = to_dict(config_section(args.config, "generation", GenerationConfig))
    overrides = {key: value for key, value in (("max_new_tokens", args.max_new_tokens),
                                               ("batch_size", getattr(args, "batch_size", None)),
                                               ("seed", getattr(args, "seed", None))) if value is not None}
    if getattr(args, "temperature", None) is not None:
        overrides |= {"do_sample": True, "temperature": args.temperature}
    return parse(GenerationConfig, decoding | overrides, "generation")


def cmd_generate(args: argparse.Namespace) -> None:
    from lhama.generate import generate, throughput
    from lhama.models import load_model, read_model_info
    from lhama.prompts import render, use_chat_template

    info = read_model_info(args.model_dir) or {}
    prompt = config_section(args.config, "prompt", PromptConfig)
    if args.system is not None:
        prompt = dataclasses.replace(prompt, instruction=args.system)
    model, tokenizer = load_model(args.model_dir, dtype=args.dtype, device=args.device,
                                  trust_remote_code=bool(info.get("trust_remote_code", False)))
    chat = use_chat_template(tokenizer, False if args.no_chat_template else info.get("use_chat_template"))
    generations = generate(model, tokenizer, render(tokenizer, args.prompt, prompt=prompt, chat=chat),
                           _decoding(args), progress=not args.no_progress)
    if args.json:
        for text, generation in zip(args.prompt, generations):
            print(json.dumps({"prompt": text, **generation.to_json()}, ensure_ascii=False))
        return
    for text, generation in zip(args.prompt, generations):
        print(f"### {text}\n{generation.text}\n")
    print(f"{sum(g.new_tokens for g in generations)} new tokens, {throughput(generations):.1f} tokens/s")


def cmd_ask(args: argparse.Namespace) -> None:
    """One question through the answer stage: the same prompts and decoding as the workflow's answers, so only
    retrieval (--index) or tuning (--adapter) differs between the variants."""
    from lhama.answer import answer_questions
    from lhama.questions import Question

    variant = ("tuned" if args.adapter else "base") + ("_rag" if args.index else "")
    variant = "rag" if variant == "base_rag" else variant
    retrieval = None
    if args.index:
        base = RetrievalSettings.of(config_section(args.config, "rag", RagConfig))
        retrieval = dataclasses.replace(base, retriever=dataclasses.replace(base.retriever, k=args.k))
    [row] = answer_questions(args.model, [Question("ask", args.question, [])], variant=variant,
                             decoding=_decoding(args), prompt=config_section(args.config, "prompt", PromptConfig),
                             adapter_dir=args.adapter, index_dir=args.index, retrieval=retrieval,
                             questions_name="ask", progress=False)
    if args.json:
        print(json.dumps(row, ensure_ascii=False))
        return
    print(f"[{variant}] {row['answer']}")
    for source in row["sources"]:
        print(f"  [{source['rank']}] {source['title']}{' — ' + source['section'] if source['section'] else ''}")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "prepare-model":
        parser.add_argument("--name", required=True)
        parser.add_argument("--source", required=True,
                            help="local HF folder, hub:<repo id>, or gguf-package:<module>/<file.gguf>")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--params", help="declared parameter count (1.35e8, 7B...), for resource estimates")
        parser.add_argument("--revision", help="hub branch, tag or commit")
        parser.add_argument("--trust-remote-code", action="store_true", help="run code shipped with the model")
        parser.set_defaults(run=cmd_prepare_model)
        return
    parser.add_argument("--config", help="workflow config YAML whose `generation`, `prompt` (and, for ask, `rag`) "
                                         "sections are used (their defaults without one)")
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--json", action="store_true")
    if name == "generate":
        parser.add_argument("model_dir", type=Path, help="folder written by `lhama prepare-model` (or any HF folder)")
        parser.add_argument("--prompt", action="append", required=True, help="a prompt (repeat for several)")
        parser.add_argument("--system", help="system turn (default: the config's prompt.instruction)")
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--temperature", type=float, help="sample at this temperature (default: greedy)")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
        parser.add_argument("--device", default="auto")
        parser.add_argument("--no-chat-template", action="store_true", help="plain prompts even with a template")
        parser.add_argument("--no-progress", action="store_true")
        parser.set_defaults(run=cmd_generate)
    else:
        parser.add_argument("model", help="model folder written by `lhama prepare-model`")
        parser.add_argument("question")
        parser.add_argument("--index", help="retrieval index folder (`lhama index`): the rag variants")
        parser.add_argument("--adapter", help="PEFT adapter folder to apply (the tuned variants)")
        parser.add_argument("-k", type=int, default=RetrievalSettings().retriever.k)
        parser.set_defaults(run=cmd_ask)
