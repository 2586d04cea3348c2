"""Answer a question set with one model in one of five variants: base, tuned (a PEFT adapter), rag (retrieved
passages in the prompt), tuned_rag (both) and raft (the adapter trained on prompts with retrieved passages, asked with
passages).

Every variant goes through the same path: the same weights, the same prompt formatting (the model's chat template
when it has one) and the same decoding settings; only the adapter and the passages differ. This removes the study's
confound of answering RAG questions with another generator and other settings.

Retrieval for all questions runs before any generation, so its time is recorded apart (`retrieval_seconds`).
Generation is batched (`decoding.batch_size`), left-padded, with the KV cache (`lhama.generate.generate`).

Output: one JSON object per question, in input order (see `answer_row`), written atomically; beside it a run summary
`<out stem>.summary.json` (decoding settings, totals, tokens/s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lhama.config.sections import (
    VARIANT_ADAPTER, VARIANT_RETRIEVES, VARIANTS, GenerationConfig, PromptConfig, RetrievalSettings,
)
from lhama.errors import ConfigError, InputFileError
from lhama.answer_parts import part_of, summary_path
from lhama.files import write_json, write_jsonl
from lhama.generate import Generation, generate, throughput
from lhama.prompts import render, use_chat_template, user_message
from lhama.provenance import environment
from lhama.questions import Question, load_questions

log = logging.getLogger(__name__)

SOURCE_KEYS = ("rank", "title", "section", "url", "chunk_id", "score")


def variant_parts(variant: str) -> tuple[bool, bool]:
    """(tuned, rag) for a variant name; a ConfigError for an unknown one."""
    if variant not in VARIANTS:
        raise ConfigError("variant", f"expected one of {', '.join(VARIANTS)}, got {variant!r}")
    return VARIANT_ADAPTER[variant] is not None, VARIANT_RETRIEVES[variant]


def check_variant(variant: str, adapter_dir: str | Path | None, index_dir: str | Path | None) -> None:
    """The options a variant needs are given and those it must not have are absent: a base run given an adapter
    would be labelled base but answer as tuned, so that is an error too."""
    tuned, rag = variant_parts(variant)
    if tuned and not adapter_dir:
        raise ConfigError("adapter", f"the {variant} variant needs a PEFT adapter folder (--adapter)")
    if not tuned and adapter_dir:
        raise ConfigError("adapter", f"the {variant} variant takes no adapter (use tuned, tuned_rag or raft)")
    if rag and not index_dir:
        raise ConfigError("index", f"the {variant} variant needs a retrieval index folder (--index)")
    if not rag and index_dir:
        raise ConfigError("index", f"the {variant} variant takes no index (use rag, tuned_rag or raft)")
    for option, folder in (("adapter", adapter_dir), ("index", index_dir)):
        if folder and not Path(folder).is_dir():
            raise InputFileError(folder, f"{option} folder not found")


def source_json(chunk) -> dict:
    """The citation fields of a retrieved chunk (its text stays in the prompt, not in every answer row)."""
    return {key: getattr(chunk, key) for key in SOURCE_KEYS}


def retrieve_all(index_dir: str | Path, questions: Sequence[Question],
                 settings: RetrievalSettings | None = None) -> tuple[list[list], list[float], float]:
    """(passages per question, seconds per question, seconds to load the index and embedder). `settings` are the
    retrieval stage's (query prefix, search depth, k, hybrid, MMR); None: the index's embedder and the defaults."""
    from tqdm.auto import tqdm

    from lhama.rag.index import load_index

    started = time.perf_counter()
    retriever = load_index(index_dir, settings)
    k = retriever.config.k
    load_seconds = time.perf_counter() - started
    passages, seconds = [], []
    for question in tqdm(questions, desc="retrieve", unit="question", disable=len(questions) < 20 or None):
        started = time.perf_counter()
        passages.append(retriever.retrieve(question.question, k))
        seconds.append(time.perf_counter() - started)
    return passages, seconds, load_seconds


def user_prompts(questions: Sequence[Question], passages: Sequence[Sequence] | None) -> list[str]:
    """The user turn of each question: the question, after its numbered passages for the RAG variants."""
    if passages is None:
        return [question.question for question in questions]
    return [user_message(question.question, found) for question, found in zip(questions, passages, strict=True)]


def answer_row(question: Question, generation: Generation, *, variant: str, model: str, questions_name: str | None,
               prompt: str, sources: Sequence, retrieval_seconds: float | None) -> dict:
    """One output row. `seconds` is the wall time of the generation batch the answer came from (shared by the
    batch); `retrieval_seconds` that question's retrieval time (null without retrieval)."""
    return {
        "id": question.id,
        "question": question.question,
        "answers": question.answers,
        "reference": question.reference,
        "source": question.source,
        "questions": questions_name,
        "variant": variant,
        "model": model,
        "answer": generation.text,
        "sources": [source_json(chunk) for chunk in sources],
        "prompt": prompt,
        "prompt_tokens": generation.prompt_tokens,
        "new_tokens": generation.new_tokens,
        "seconds": generation.seconds,
        "batch": generation.batch,
        "retrieval_seconds": retrieval_seconds,
    }


def _load(model_dir: str | Path, adapter_dir: str | Path | None, *, dtype: str, device: str,
          trust_remote_code: bool | None):
    from lhama.models import load_model, read_model_info

    info = read_model_info(model_dir) or {}
    trust = bool(info.get("trust_remote_code", False)) if trust_remote_code is None else trust_remote_code
    model, tokenizer = load_model(model_dir, dtype=dtype, device=device, trust_remote_code=trust)
    if adapter_dir:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir))
        model.eval()
    return model, tokenizer, info


def answer_questions(model_dir: str | Path, questions: Sequence[Question], *, variant: str,
                     decoding: GenerationConfig | None = None, prompt: PromptConfig | None = None,
                     adapter_dir: str | Path | None = None, index_dir: str | Path | None = None,
                     retrieval: RetrievalSettings | None = None, model_name: str | None = None,
                     chat_template: bool | None = None, questions_name: str | None = None, dtype: str = "auto",
                     device: str = "auto", trust_remote_code: bool | None = None, progress: bool = True,
                     stats: dict | None = None) -> list[dict]:
    """Answer rows for `questions`, in their order (see `answer_row`).

    Every variant renders its prompts with `lhama.prompts.render` (the way training renders them) and decodes with
    `decoding`. chat_template: None uses the model folder's recorded choice, else whether the tokenizer has a
    template; True/False forces it. `stats`, when given, receives load/retrieval/generation timings."""
    check_variant(variant, adapter_dir, index_dir)
    if not questions:
        raise ConfigError("questions", "no questions to answer")
    _, rag = variant_parts(variant)
    decoding, prompt = decoding or GenerationConfig(), prompt or PromptConfig()
    passages: list[list] | None = None
    retrieval_seconds: list[float | None] = [None] * len(questions)
    index_load = None
    if rag:
        passages, retrieval_seconds, index_load = retrieve_all(index_dir, questions, retrieval)  # type: ignore[arg-type]
    started = time.perf_counter()
    model, tokenizer, info = _load(model_dir, adapter_dir, dtype=dtype, device=device,
                                   trust_remote_code=trust_remote_code)
    load_seconds = time.perf_counter() - started
    chat = use_chat_template(tokenizer, info.get("use_chat_template") if chat_template is None else chat_template)
    prompts = render(tokenizer, user_prompts(questions, passages), prompt=prompt, chat=chat)
    generations = generate(model, tokenizer, prompts, decoding, progress=progress)
    name = model_name or info.get("name") or Path(model_dir).name
    rows = [answer_row(question, generation, variant=variant, model=name, questions_name=questions_name,
                       prompt=prompt, sources=passages[number] if passages else [],
                       retrieval_seconds=retrieval_seconds[number])
            for number, (question, generation, prompt) in enumerate(zip(questions, generations, prompts))]
    if stats is not None:
        stats.update(model_load_seconds=load_seconds, index_load_seconds=index_load, chat_template=chat,
                     tokens_per_second=throughput(generations))
    return rows


def run_summary(rows: Sequence[dict], *, decoding: GenerationConfig, stats: dict, model_dir: str | Path,
                adapter_dir: str | Path | None, index_dir: str | Path | None, questions_file: str | Path,
                retrieval: RetrievalSettings | None = None) -> dict:
    """Totals of one answering run, for provenance and throughput comparisons."""
    batch_seconds = {row["batch"]: row["seconds"] for row in rows}
    retrieval_times = [row["retrieval_seconds"] for row in rows if row["retrieval_seconds"] is not None]
    first = rows[0] if rows else {}
    return {
        "model": first.get("model"), "variant": first.get("variant"), "questions": first.get("questions"),
        "questions_file": str(questions_file), "model_dir": str(model_dir),
        "adapter_dir": str(adapter_dir) if adapter_dir else None, "index_dir": str(index_dir) if index_dir else None,
        "k": max((len(row["sources"]) for row in rows), default=0) if index_dir else None,
        "retrieval": asdict(retrieval) if index_dir and retrieval else None,
        "decoding": asdict(decoding), "chat_template": stats.get("chat_template"),
        "n": len(rows), "batches": len(batch_seconds),
        "prompt_tokens": sum(row["prompt_tokens"] for row in rows),
        "new_tokens": sum(row["new_tokens"] for row in rows),
        "generation_seconds": sum(batch_seconds.values()),
        "tokens_per_second": stats.get("tokens_per_second"),
        "retrieval_seconds": sum(retrieval_times) if retrieval_times else None,
        "index_load_seconds": stats.get("index_load_seconds"),
        "model_load_seconds": stats.get("model_load_seconds"),
        "environment": environment(),
    }


def write_answers(model_dir: str | Path, questions_path: str | Path, out: str | Path, *, variant: str,
                  decoding: GenerationConfig | None = None, prompt: PromptConfig | None = None,
                  adapter_dir: str | Path | None = None, index_dir: str | Path | None = None,
                  retrieval: RetrievalSettings | None = None, model_name: str | None = None,
                  questions_name: str | None = None, spec=None, chat_template: bool | None = None,
                  dtype: str = "auto", device: str = "auto", progress: bool = True,
                  part: tuple[int, int] = (0, 1)) -> dict:
    """Answer a question file into `out` (JSONL) and its summary; returns the summary.

    questions_name defaults to the file stem (`config/questions/paper.jsonl` -> `paper`). `spec` (a ModelSpec)
    supplies the model name, chat-template choice and trust_remote_code where the arguments leave them open.
    `part` (index, count) answers only that share of the set (`part_of`); a share may be empty."""
    check_variant(variant, adapter_dir, index_dir)  # before reading anything big
    questions = part_of(load_questions(questions_path), *part)
    if spec is not None:
        model_name = model_name or spec.name
        chat_template = spec.chat_template if chat_template is None else chat_template
    stats: dict[str, Any] = {}
    decoding = decoding or GenerationConfig()
    rows = answer_questions(model_dir, questions, variant=variant, decoding=decoding, prompt=prompt,
                            adapter_dir=adapter_dir, index_dir=index_dir, retrieval=retrieval,
                            model_name=model_name, chat_template=chat_template,
                            questions_name=questions_name or Path(questions_path).stem, dtype=dtype, device=device,
                            trust_remote_code=getattr(spec, "trust_remote_code", None), progress=progress,
                            stats=stats) if questions else []
    summary = run_summary(rows, decoding=decoding, stats=stats, model_dir=model_dir, adapter_dir=adapter_dir,
                          index_dir=index_dir, questions_file=questions_path, retrieval=retrieval)
    write_jsonl(out, rows)
    write_json(summary_path(out), summary)
    log.info("%s %s on %s: %d answers, %d new tokens, %.1f tokens/s -> %s", summary["model"], variant,
             summary["questions"], len(rows), summary["new_tokens"], summary["tokens_per_second"] or 0.0, out)
    return summary
