"""Every prompt of the workflow comes from here: training examples, the answer stage's variants and `lhama ask`.

A question is asked the same way everywhere: the instruction as the system turn and the question as the user turn
of the model's chat template, or, for a model without one, `prompt.template` filled with {instruction} and {input}.
Retrieved passages, when a variant has them, go into the user turn ahead of the question; nothing else changes, so
the variants of one model differ only by their passages (and the tuned ones by their weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from lhama.config.sections import PromptConfig
from lhama.errors import ConfigError

NOT_FOUND_PT = "Os trechos fornecidos não contêm a resposta."


class Passage(Protocol):
    """What a prompt shows of a retrieved chunk (`lhama.rag.RetrievedChunk` has it; a training example's passages
    are the texts themselves)."""

    text: str


def _text(passage: Passage | str) -> str:
    return passage if isinstance(passage, str) else passage.text


def passages_block(passages: Sequence[Passage | str]) -> str:
    """The numbered passages, in retrieval order, with one line saying what they are."""
    numbered = "\n\n".join(f"[{number}] {_text(passage)}" for number, passage in enumerate(passages, start=1))
    return ("Trechos da Wikipédia que podem conter a resposta (se não a contiverem, diga: "
            f"\"{NOT_FOUND_PT}\"):\n\n{numbered}")


def user_message(question: str, passages: Sequence[Passage | str] | None = None) -> str:
    """The user turn: the question, after the numbered passages when there are any."""
    if not passages:
        return question
    return f"{passages_block(passages)}\n\nPergunta: {question}"


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def use_chat_template(tokenizer, forced: bool | None = None) -> bool:
    """The model's choice (`models.NAME.chat_template`, recorded in lhama_model.json) when set, else whether the
    tokenizer has a chat template: the same rule in training and answering."""
    if forced is None:
        return has_chat_template(tokenizer)
    if forced and not has_chat_template(tokenizer):
        raise ConfigError("models.chat_template", "the chat template is forced on but the tokenizer has none")
    return bool(forced)


def messages(instruction: str, user: str) -> list[dict]:
    """Chat turns: the instruction as system turn (when there is one), then the user turn."""
    return ([{"role": "system", "content": instruction}] if instruction.strip() else []) + [
        {"role": "user", "content": user}]


def plain_prompt(template: str, instruction: str, user: str) -> str:
    return template.format_map({"instruction": instruction, "input": user})


def render(tokenizer, users: Sequence[str], *, prompt: PromptConfig, chat: bool) -> list[str]:
    """Prompt strings for generation, ending where the model's answer begins."""
    if isinstance(users, str):
        raise TypeError("render takes a list of user turns, not a string")
    if chat:
        return [tokenizer.apply_chat_template(messages(prompt.instruction, user), tokenize=False,
                                              add_generation_prompt=True) for user in users]
    return [plain_prompt(prompt.template, prompt.instruction, user) for user in users]


def training_record(row: Mapping, *, template: str, chat: bool) -> dict:
    """One instruction row (instruction, input, output, and for RAFT its `passages`) as a TRL prompt/completion
    record, rendered as `render` renders a question. Chat: conversational turns (the tokenizer's template renders
    them); plain: `template` and the answer (TRL appends EOS)."""
    instruction, answer = row.get("instruction", "") or "", row["output"]
    user = user_message(row["input"], row.get("passages"))
    if chat:
        return {"prompt": messages(instruction, user), "completion": [{"role": "assistant", "content": answer}]}
    return {"prompt": plain_prompt(template, instruction, user), "completion": answer}
