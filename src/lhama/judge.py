"""A model of the registry as judge (`evaluate.judge`): is each answer correct, against the reference, and, for the
variants that answered with passages, do the passages support it? Asked in Portuguese through the one prompt path
(`lhama.prompts.render`, the judge's chat template when it has one), batched; the verdict is whichever of "Sim" and
"Não" the judge finds likelier as its reply (`lhama.generate.choice_loglikelihoods`, the multiple-choice scoring of
lm-evaluation-harness), with the log-likelihood margin kept beside it. Free-text replies would leave a small judge's
verdicts mostly unreadable (SmolLM2-135M starts every reply with "A resposta"); a forced choice always gives one.

The string metric (a reference answer occurs in the answer) and the judge disagree where one of them is wrong; the
report gives both and Cohen's kappa between them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from lhama.config.sections import VARIANT_RETRIEVES, PromptConfig
from lhama.evaluate import read_answer_rows
from lhama.files import read_jsonl, write_jsonl

log = logging.getLogger(__name__)

INSTRUCTION = ("Você avalia respostas a perguntas sobre a história e a geografia do Brasil. Responda apenas "
               "\"sim\" ou \"não\".")
CHOICES = ("Sim", "Não")
BATCH_SIZE = 8


def reference_text(row: Mapping) -> str:
    answers = [answer if isinstance(answer, str) else " e ".join(answer) for answer in row.get("answers") or []]
    return row.get("reference") or " ou ".join(answers)


def correctness_question(row: Mapping) -> str:
    return (f"Pergunta: {row['question']}\nResposta de referência: {reference_text(row)}\n"
            f"Resposta a avaliar: {row['answer']}\n\nA resposta a avaliar está correta, segundo a referência?")


def support_question(row: Mapping, passages: Sequence[str]) -> str:
    numbered = "\n\n".join(f"[{number}] {text}" for number, text in enumerate(passages, start=1))
    return (f"Trechos:\n{numbered}\n\nPergunta: {row['question']}\nResposta: {row['answer']}\n\n"
            "Os trechos acima sustentam essa resposta?")


def verdict(yes: float, no: float) -> bool | None:
    """True when "Sim" is the likelier reply, False when "Não" is, None on a tie (or a non-finite score)."""
    if not (math.isfinite(yes) and math.isfinite(no)) or yes == no:
        return None
    return yes > no


def passages_of(row: Mapping, docstore: Mapping[str, str]) -> list[str]:
    return [docstore[source["chunk_id"]] for source in row.get("sources") or [] if source["chunk_id"] in docstore]


def judge_answers(model_dir: str | Path, rows: Sequence[Mapping], *, docstore: Mapping[str, str] | None = None,
                  batch_size: int = BATCH_SIZE, progress: bool = True) -> list[dict]:
    """One judgement per answer row: {model, variant, questions, id, correct, supported, margins}; a margin is the
    log-likelihood of "Sim" minus that of "Não" (positive: judged correct / supported)."""
    from lhama.generate import choice_loglikelihoods
    from lhama.models import load_model, read_model_info
    from lhama.prompts import render, use_chat_template

    info = read_model_info(model_dir) or {}
    model, tokenizer = load_model(model_dir, trust_remote_code=bool(info.get("trust_remote_code", False)))
    chat = use_chat_template(tokenizer, info.get("use_chat_template"))
    prompt = PromptConfig(instruction=INSTRUCTION)
    asks = [(number, "correct", correctness_question(row)) for number, row in enumerate(rows)]
    asks += [(number, "supported", support_question(row, passages_of(row, docstore or {})))
             for number, row in enumerate(rows) if VARIANT_RETRIEVES.get(row["variant"]) and row.get("sources")]
    scores = choice_loglikelihoods(model, tokenizer, render(tokenizer, [text for _, _, text in asks], prompt=prompt,
                                                           chat=chat),
                                   CHOICES, batch_size=batch_size, progress=progress)
    judged = [{"model": row["model"], "variant": row["variant"], "questions": row["questions"], "id": row["id"],
               "correct": None, "supported": None, "margins": {}} for row in rows]
    for (number, kind, _), (yes, no) in zip(asks, scores, strict=True):
        judged[number][kind] = verdict(yes, no)
        judged[number]["margins"][kind] = round(yes - no, 4)
    said_yes = sum(1 for yes, no in scores if verdict(yes, no))
    log.info("judged %d answers (%d questions asked, %d answered Sim)", len(rows), len(asks), said_yes)
    return judged


def write_judgements(model_dir: str | Path, answer_paths: Sequence[str | Path], out: str | Path, *,
                     index_dir: str | Path | None = None, batch_size: int = BATCH_SIZE) -> int:
    rows = [row for path in answer_paths for row in read_answer_rows(path)]
    docstore = ({chunk["chunk_id"]: chunk["text"] for chunk in read_jsonl(Path(index_dir) / "docstore.jsonl")}
                if index_dir else {})
    return write_jsonl(out, judge_answers(model_dir, rows, docstore=docstore, batch_size=batch_size,
                                          progress=False))
