"""Judge benchmark: each prompt read once for all choices (lhama now) against one full pass per (prompt, choice)
(the scoring before, kept here as the baseline), in one run on the same prompts.

The prompts are the judge's own (`lhama.judge`): for each of the first `--questions` of the paper's ten questions
(3: the baseline takes minutes on 2 cores), "is the answer correct" and
"do these passages support it" with `--passages` passages of `--passage-chars` characters cut from the sample dump's
pages (the RAG variants' support question is what makes judge prompts long: about 1,500 tokens with 5 passages of
the demo's 256 tokens). Both sides score the same rendered prompts with the same model in float32; they must give
the same verdicts and log-likelihoods within `--tolerance`. Printed: seconds for each side, the ratio, and the
largest difference. The judge model is the demo model unless `--model-dir` names another prepared folder (for
example results/models/gemma3-270m/base, whose "Sim"/"Não" are one token each, where SmolLM2's "Não" is two).

Usage: python benchmarks/bench_judge.py [--model-dir DIR] [--questions 3] [--passages 5] [--passage-chars 600]
                                        [--repeats 2] [--batch-size 8] [--threads N]
Exit status 0 when both sides agree, 1 otherwise. Results go to benchmarks/out/judge.json.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import OUT, PAPER, ROOT, demo_model  # noqa: E402

DUMP = ROOT / "resources" / "ptwiki-sample-pages-articles-multistream.xml.bz2"


def page_texts(limit_chars: int) -> list[str]:
    """The sample dump's page texts (wikitext: the judge reads tokens, the markup costs the same), each cut."""
    from lxml import etree

    with bz2.open(DUMP) as handle:
        return [(element.text or "")[:limit_chars] for _, element in etree.iterparse(handle, tag="{*}text")
                if element.text]


def judge_prompts(tokenizer, info: dict, passages: int, passage_chars: int, count: int) -> list[str]:
    """The judge's two questions for each of the first `count` paper questions, answered with its first reference
    answer."""
    from lhama.config.sections import PromptConfig
    from lhama.judge import INSTRUCTION, correctness_question, support_question
    from lhama.prompts import render, use_chat_template
    from lhama.questions import load_questions

    texts = page_texts(passage_chars)
    users = []
    for number, question in enumerate(load_questions(PAPER)[:count]):
        first = question.answers[0]
        row = {"question": question.question, "answers": list(question.answers), "reference": question.reference,
               "answer": first[0] if isinstance(first, list) else first}
        users.append(correctness_question(row))
        users.append(support_question(row, [texts[(number * passages + k) % len(texts)] for k in range(passages)]))
    chat = use_chat_template(tokenizer, info.get("use_chat_template"))
    return render(tokenizer, users, prompt=PromptConfig(instruction=INSTRUCTION), chat=chat)


def every_pair_scoring(model, tokenizer, prompts, choices, *, batch_size: int = 8) -> list[list[float]]:
    """The scoring before: one right-padded pass over prompt + choice for every (prompt, choice) pair, the full
    logits of the batch kept."""
    import torch

    from lhama.generate import _encode

    endings = [list(tokenizer(choice, add_special_tokens=False)["input_ids"]) for choice in choices]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    pairs = [(index, choice, _encode(tokenizer, text)) for index, text in enumerate(prompts)
             for choice in range(len(choices))]
    scores = [[0.0] * len(choices) for _ in prompts]
    with torch.inference_mode():
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            sequences = [context + endings[choice] for _, choice, context in batch]
            width = max(len(seq) for seq in sequences)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, seq in enumerate(sequences):
                ids[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, :len(seq)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits
            for row, (index, choice, context) in enumerate(batch):
                start_at, ending = len(context), endings[choice]
                predicting = torch.log_softmax(logits[row, start_at - 1:start_at - 1 + len(ending)].float(), -1)
                scores[index][choice] = float(predicting.gather(1, torch.tensor(ending)[:, None]).sum())
    return scores


def timed(function, *args, **kwargs) -> tuple[float, list[list[float]]]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="a prepared HF folder (default: the demo model)")
    parser.add_argument("--questions", type=int, default=3, help="the first N of the paper's ten questions")
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--passage-chars", type=int, default=600, help="about 256 tokens of wikitext")
    parser.add_argument("--repeats", type=int, default=2, help="each side's best of this many runs is compared")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args(argv)

    import torch

    from lhama.generate import choice_loglikelihoods
    from lhama.judge import CHOICES, verdict
    from lhama.models import load_model, read_model_info

    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = args.model_dir or demo_model(OUT / "smollm2-hf")
    model, tokenizer = load_model(model_dir, dtype="float32", device="cpu")
    prompts = judge_prompts(tokenizer, read_model_info(model_dir) or {}, args.passages, args.passage_chars,
                            args.questions)
    tokens = [len(tokenizer(text)["input_ids"]) for text in prompts]
    choice_tokens = [len(tokenizer(choice, add_special_tokens=False)["input_ids"]) for choice in CHOICES]
    runs: dict[str, list[float]] = {"once": [], "every_pair": []}
    for _ in range(args.repeats):  # alternated, so that a disturbance hits both sides alike
        seconds, now = timed(choice_loglikelihoods, model, tokenizer, prompts, CHOICES, batch_size=args.batch_size,
                             progress=False)
        runs["once"].append(seconds)
        seconds, before = timed(every_pair_scoring, model, tokenizer, prompts, CHOICES, batch_size=args.batch_size)
        runs["every_pair"].append(seconds)
    difference = max(abs(a - b) for row_now, row_before in zip(now, before) for a, b in zip(row_now, row_before))
    same_verdicts = [verdict(*row) for row in now] == [verdict(*row) for row in before]
    ratio = min(runs["every_pair"]) / min(runs["once"])
    result = {"model_dir": str(model_dir), "prompts": len(prompts), "prompt_tokens_mean": sum(tokens) / len(tokens),
              "prompt_tokens_max": max(tokens), "choice_tokens": dict(zip(CHOICES, choice_tokens)),
              "passages": args.passages, "batch_size": args.batch_size, "threads": torch.get_num_threads(),
              "seconds": runs, "ratio_every_pair_over_once": round(ratio, 2), "max_abs_difference": difference,
              "same_verdicts": same_verdicts, "tolerance": args.tolerance, "python": platform.python_version(),
              "torch": torch.__version__}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "judge.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"judge model {model_dir}: {len(prompts)} prompts, {result['prompt_tokens_mean']:.0f} tokens on average "
          f"(max {max(tokens)}), choices {result['choice_tokens']} tokens")
    print(f"  each prompt once (now):      best {min(runs['once']):.2f} s of {runs['once']}")
    print(f"  every (prompt, choice) pair: best {min(runs['every_pair']):.2f} s of {runs['every_pair']}")
    print(f"  ratio {ratio:.2f}x; largest log-likelihood difference {difference:.2e}; same verdicts: {same_verdicts}")
    agree = same_verdicts and difference <= args.tolerance
    print("PASS" if agree else f"FAIL: the two scorings disagree (tolerance {args.tolerance})")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
