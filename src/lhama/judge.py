"""A model of the registry as judge (`evaluate.judge`): is each answer correct, against the reference, and, for the
variants that answered with passages, do the passages support it? Asked in Portuguese through the one generation
path (`lhama.prompts.render`, `lhama.generate.generate`), batched and greedy; the verdict is the first word of the
judge's reply, "sim" or "não", and None when it says anything else (counted apart, never guessed).

The string metric (a reference answer occurs in the answer) and the judge disagree where one of them is wrong; the
report gives both and Cohen's kappa between them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from lhama.config.sections import VARIANT_RETRIEVES, GenerationConfig, PromptConfig
from lhama.evaluate import read_answer_rows
from lhama.files import read_jsonl, write_jsonl
from lhama.text import fold_lower

log = logging.getLogger(__name__)

INSTRUCTION = ("Você avalia respostas a perguntas sobre a história e a geografia do Brasil. Responda apenas "
               "\"sim\" ou \"não\".")
DECODING = GenerationConfig(max_new_tokens=4, batch_size=8)
_FIRST_WORD = re.compile(r"[a-z]+")


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


def verdict(reply: str) -> bool | None:
    """True for "sim", False for "não"/"nao", None for anything else."""
    found = _FIRST_WORD.search(fold_lower(reply))
    word = found.group() if found else ""
    return True if word == "sim" else False if word == "nao" else None


def passages_of(row: Mapping, docstore: Mapping[str, str]) -> list[str]:
    return [docstore[source["chunk_id"]] for source in row.get("sources") or [] if source["chunk_id"] in docstore]


def judge_answers(model_dir: str | Path, rows: Sequence[Mapping], *, docstore: Mapping[str, str] | None = None,
                  decoding: GenerationConfig = DECODING, progress: bool = True) -> list[dict]:
    """One judgement per answer row: {model, variant, questions, id, correct, supported, replies}."""
    from lhama.generate import generate
    from lhama.models import load_model, read_model_info
    from lhama.prompts import render, use_chat_template

    info = read_model_info(model_dir) or {}
    model, tokenizer = load_model(model_dir, trust_remote_code=bool(info.get("trust_remote_code", False)))
    chat = use_chat_template(tokenizer, info.get("use_chat_template"))
    prompt = PromptConfig(instruction=INSTRUCTION)
    asks = [(number, "correct", correctness_question(row)) for number, row in enumerate(rows)]
    asks += [(number, "supported", support_question(row, passages_of(row, docstore or {})))
             for number, row in enumerate(rows) if VARIANT_RETRIEVES.get(row["variant"]) and row.get("sources")]
    replies = generate(model, tokenizer, render(tokenizer, [text for _, _, text in asks], prompt=prompt, chat=chat),
                       decoding, progress=progress)
    judged = [{"model": row["model"], "variant": row["variant"], "questions": row["questions"], "id": row["id"],
               "correct": None, "supported": None, "replies": {}} for row in rows]
    for (number, kind, _), reply in zip(asks, replies, strict=True):
        judged[number][kind] = verdict(reply.text)
        judged[number]["replies"][kind] = reply.text
    unclear = sum(1 for (_, _, _), reply in zip(asks, replies) if verdict(reply.text) is None)
    log.info("judged %d answers (%d questions asked, %d replies neither sim nor não)", len(rows), len(asks), unclear)
    return judged


def write_judgements(model_dir: str | Path, answer_paths: Sequence[str | Path], out: str | Path, *,
                     index_dir: str | Path | None = None, decoding: GenerationConfig = DECODING) -> int:
    rows = [row for path in answer_paths for row in read_answer_rows(path)]
    docstore = ({chunk["chunk_id"]: chunk["text"] for chunk in read_jsonl(Path(index_dir) / "docstore.jsonl")}
                if index_dir else {})
    return write_jsonl(out, judge_answers(model_dir, rows, docstore=docstore, decoding=decoding, progress=False))
