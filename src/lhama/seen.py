"""Seen facts, asked anew: a question set on facts the tuned model was trained on, in words training never used.

The held-out set asks about articles training never saw, so it cannot show what the study asks: does tuning put
facts into the model? As Ovadia et al. (2023, "Fine-Tuning or Retrieval?") separate knowledge injection from
unseen articles, this set takes a seeded sample of infobox facts (article, field, value) of the training rows
every tuned model trains on (a run of `max_steps` reads only steps x batch rows, `lhama.training_rows`: on the
full ptwiki 2,000 of some 11 million, so a sample of the whole split would hold almost no trained fact) and
asks each with a question template of its own (`PARAPHRASES`: none of them is a training template), checked
against the same value. `tuned` answering these well, but not the held-out ones, is knowledge injected by tuning.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from lhama.corpus import iter_articles
from lhama.files import write_json, write_jsonl
from lhama.errors import LhamaError
from lhama.qa import infobox_examples, qa_options
from lhama.questions import Question
from lhama.training_rows import read_chosen, row_offsets, rows_in_common

SET_NAME = "seen"
# infobox field -> (question, answer sentence), worded unlike DEFAULT_INFOBOX_QUESTIONS (a test keeps them apart)
PARAPHRASES: dict[str, tuple[str, str]] = {
    "nome_completo": ("Por extenso, como se chamava {title}?", "Por extenso, {title} se chamava {value}."),
    "nascimento_data": ("Em que data {title} nasceu?", "{title} nasceu na data de {value}."),
    "nascimento_local": ("Em que lugar {title} nasceu?", "{title} nasceu em {value}."),
    "morte_data": ("Em que data {title} morreu?", "{title} morreu na data de {value}."),
    "morte_local": ("Em que lugar {title} morreu?", "{title} morreu em {value}."),
    "ocupação": ("Que ofício tinha {title}?", "{title} tinha por ofício: {value}."),
    "cônjuge": ("Com quem {title} se casou?", "{title} se casou com {value}."),
    "nacionalidade": ("De que nacionalidade era {title}?", "{title} era de nacionalidade {value}."),
    "fundação": ("Em que data foi a fundação de {title}?", "A fundação de {title} foi em {value}."),
    "capital": ("Que cidade é a sede do governo de {title}?", "A sede do governo de {title} é {value}."),
    "língua_oficial": ("Que idioma é o oficial de {title}?", "O idioma oficial de {title} é {value}."),
    "gentílico": ("Como se chama quem nasce em {title}?", "Quem nasce em {title} se chama {value}."),
    "estado": ("{title} pertence a que estado?", "{title} pertence ao estado de {value}."),
    "independência": ("Em que data {title} ficou independente?", "{title} ficou independente em {value}."),
    "data": ("Em que data se deu {title}?", "{title} se deu em {value}."),
    "local": ("Em que lugar se deu {title}?", "{title} se deu em {value}."),
    "resultado": ("Como terminou {title}?", "{title} terminou assim: {value}."),
    "nascente": ("Em que lugar fica a nascente do {title}?", "A nascente do {title} fica em {value}."),
    "foz": ("Em que lugar fica a foz do {title}?", "A foz do {title} fica em {value}."),
}
def seen_candidates(train_examples: Iterable[dict], articles: Iterable[dict]) -> list[Question]:
    """Every infobox fact of these training rows, asked with its paraphrase, in article order."""
    trained = {(example["source_id"], example.get("field")) for example in train_examples
               if example.get("kind") == "infobox"}
    options = qa_options(qa=None)
    options = type(options)(**{**options.__dict__, "infobox_questions": PARAPHRASES, "kinds": ("infobox",)})
    sources = {source for source, _ in trained}
    candidates = []
    for article in articles:
        if article["id"] not in sources:
            continue
        for example in infobox_examples(article, options):
            if (article["id"], example["field"]) in trained:
                candidates.append(Question(f"seen-{example['id']}", example["input"], example["answers"],
                                           example["output"], article["title"]))
    return candidates


def sample_questions(candidates: list[Question], max_questions: int | None, seed: int) -> list[Question]:
    """A seeded sample of at most `max_questions`, in the candidates' order."""
    if not candidates:
        raise LhamaError("no infobox fact in the training rows the tuned models take to ask anew: set "
                         "evaluate.seen_facts to 0")
    if max_questions is None or len(candidates) <= max_questions:
        return candidates
    chosen = set(random.Random(seed).sample(range(len(candidates)), max_questions))
    return [question for number, question in enumerate(candidates) if number in chosen]


def seen_fact_questions(train_examples: Iterable[dict], articles: Iterable[dict], *, max_questions: int | None,
                        seed: int) -> list[Question]:
    """Questions on a seeded sample of these training rows' infobox facts, each asked with its paraphrase."""
    return sample_questions(seen_candidates(train_examples, articles), max_questions, seed)


def write_seen_questions(train_path: str | Path, articles_dir: str | Path, out: str | Path, sample_out: str | Path,
                         *, max_questions: int | None, seed: int, trained: Sequence[Sequence]) -> int:
    """The seen set, on the facts of the training rows every tuned model takes (`trained`: each training's (rows
    taken, seed) draw, `lhama.training_rows`), and `sample_out`: how many rows and facts it was drawn from."""
    offsets, lines = row_offsets(train_path)
    rows = rows_in_common(len(offsets), [(take, row_seed) for take, row_seed in trained])
    train_examples = (example for _, example in read_chosen(train_path, rows, offsets, lines))
    candidates = seen_candidates(train_examples, iter_articles(articles_dir))
    questions = sample_questions(candidates, max_questions, seed)
    count = write_jsonl(out, (question.to_json() for question in questions))
    write_json(sample_out, {
        "n": count, "facts": len(candidates), "trained_rows": len(rows), "train_rows": len(offsets),
        "draws": [{"rows": take, "seed": row_seed} for take, row_seed in trained], "seed": seed,
        "method": f"{count} of the {len(candidates)} infobox facts in the {len(rows)} training rows every tuned "
                  f"model takes (of {len(offsets)} in the split), drawn with seed {seed}"})
    return count
