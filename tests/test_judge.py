"""lhama.judge: the judge's prompts and verdicts, its run on the demo model (mechanics, not quality), and the
judge columns it gives the metrics (accuracy, supported share, Cohen's kappa against the string metric)."""

import json

import pytest

from lhama.evaluate import cohen_kappa, evaluate_files
from lhama.files import read_tsv
from lhama.judge import correctness_question, support_question, verdict, write_judgements


def row(qid, variant, answer, **extra):
    return {"id": qid, "question": f"Qual é a capital do país {qid}?", "answers": ["Brasília"], "reference": None,
            "source": "Brasília", "questions": "paper", "variant": variant, "model": "smollm2", "answer": answer,
            "sources": [], "prompt": "p", "prompt_tokens": 1, "new_tokens": 1, "seconds": 1.0, "batch": 0,
            "retrieval_seconds": None, **extra}


@pytest.mark.parametrize(("yes", "no", "expected"), [(-1.0, -3.0, True), (-5.0, -0.5, False), (-2.0, -2.0, None),
                                                      (float("nan"), -1.0, None), (float("-inf"), -1.0, None)])
def test_verdict_is_the_likelier_reply(yes, no, expected):
    assert verdict(yes, no) is expected


@pytest.mark.parametrize(("choices", "batch_size"), [(["Sim", "Não"], 4), (["Talvez não", "Sim", "Não sei"], 2),
                                                    (["Não", "Sim"], 1)])
def test_choice_scores_are_the_continuation_log_likelihoods(tiny_model_dir, choices, batch_size):
    """Each prompt read once (left-padded, the KV cache shared by the choices) gives what scoring each
    (prompt, choice) alone gives, summed over the choice's tokens: with choices of one and of several tokens, the
    several-token one first or last, and prompts of different lengths in one batch."""
    import torch

    from lhama.generate import choice_loglikelihoods
    from lhama.models import load_model

    model, tokenizer = load_model(tiny_model_dir, dtype="float32", device="cpu")
    prompts = ["uma pergunta curta", "uma pergunta bem mais longa que a outra, com muitas palavras", "outra"]
    lengths = {len(tokenizer(choice, add_special_tokens=False)["input_ids"]) for choice in choices}
    assert len(lengths) > 1 or max(lengths) > 1  # the several-token path is taken
    batched = choice_loglikelihoods(model, tokenizer, prompts, choices, batch_size=batch_size, progress=False)
    for prompt, row in zip(prompts, batched):
        for choice, score in zip(choices, row):
            context = tokenizer(prompt)["input_ids"]
            ending = tokenizer(choice, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([context + ending])
            with torch.inference_mode():
                logprobs = torch.log_softmax(model(input_ids=ids).logits.float(), dim=-1)[0]
            alone = sum(float(logprobs[len(context) + k - 1, token]) for k, token in enumerate(ending))
            assert score == pytest.approx(alone, abs=1e-4)


class _OlderForward:
    """A causal LM whose forward predates `logits_to_keep` and names its cache `past_key_values` (as models written
    for older transformers releases do): every position's logits come back."""

    def __init__(self, model):
        self.model, self.device, self.training = model, model.device, False

    def eval(self):
        return self

    def train(self, mode: bool = True):
        return self

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=None):
        from types import SimpleNamespace

        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         cache=past_key_values, use_cache=use_cache)
        return SimpleNamespace(logits=out.logits, past_key_values=out.cache)

    __call__ = forward


def test_choice_scores_without_logits_to_keep_or_the_cache_keyword(tiny_model_dir):
    """The fallback for a forward without `logits_to_keep` (all positions' logits, the last one read) and with the
    older `past_key_values` keyword gives the same scores as the fast path."""
    from lhama.generate import choice_loglikelihoods
    from lhama.models import load_model

    model, tokenizer = load_model(tiny_model_dir, dtype="float32", device="cpu")
    prompts = ["uma pergunta curta", "uma pergunta bem mais longa que a outra, com muitas palavras"]
    choices = ["Talvez não", "Sim"]
    fast = choice_loglikelihoods(model, tokenizer, prompts, choices, batch_size=2, progress=False)
    older = choice_loglikelihoods(_OlderForward(model), tokenizer, prompts, choices, batch_size=2, progress=False)
    assert [score for row in older for score in row] == pytest.approx([score for row in fast for score in row],
                                                                      abs=1e-5)
    assert fast[0] != pytest.approx(fast[1], abs=1e-3)  # the prompts score differently: the check can fail


def test_prompts_are_portuguese_and_carry_the_reference_and_passages():
    text = correctness_question(row("q1", "base", "Rio de Janeiro"))
    assert "Resposta de referência: Brasília" in text and "Resposta a avaliar: Rio de Janeiro" in text
    support = support_question(row("q1", "rag", "Brasília"), ["Brasília é a capital."])
    assert "[1] Brasília é a capital." in support and support.endswith("sustentam essa resposta?")


def test_cohen_kappa():
    assert cohen_kappa([True, True, False, False], [True, True, False, False]) == 1.0
    assert cohen_kappa([True, False, True, False], [True, True, False, False]) == 0.0
    assert cohen_kappa([True, True], [True, True]) is None  # one class: undefined


def test_the_demo_model_judges_and_the_metrics_report_it(smollm2_dir, tmp_path):
    rows = [row("q1", "base", "Brasília"), row("q2", "base", "Rio de Janeiro"),
            row("q3", "rag", "Brasília", sources=[{"rank": 1, "title": "Brasília", "section": "", "url": "u",
                                                   "chunk_id": "1:0", "score": 1.0}])]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    index = tmp_path / "index"
    index.mkdir()
    (index / "docstore.jsonl").write_text(json.dumps({"chunk_id": "1:0", "text": "Brasília é a capital."}) + "\n")
    out = tmp_path / "judgements.jsonl"
    assert write_judgements(smollm2_dir, [answers], out, index_dir=index) == 3
    judged = {j["id"]: j for j in map(json.loads, out.read_text().splitlines())}
    assert {qid: set(j["margins"]) for qid, j in judged.items()} == {"q1": {"correct"}, "q2": {"correct"},
                                                                   "q3": {"correct", "supported"}}
    # a forced choice: every question gets a verdict, its sign the margin's
    assert all(j[kind] is (j["margins"][kind] > 0) for j in judged.values() for kind in j["margins"])
    assert judged["q1"]["supported"] is None and judged["q3"]["supported"] in (True, False)
    evaluate_files([answers], tmp_path / "m.tsv", tmp_path / "s.jsonl", tmp_path / "c.tsv", judgements=[out],
                   resamples=100)
    metrics = {r["variant"]: r for r in read_tsv(tmp_path / "m.tsv")}
    verdicts = [judged["q1"]["correct"], judged["q2"]["correct"]]
    assert metrics["base"]["judge_unclear"] == 0
    assert metrics["base"]["judge_accuracy"] == pytest.approx(sum(verdicts) / 2)
    # the string metric marks q1 correct and q2 wrong
    assert metrics["base"]["judge_kappa"] == (pytest.approx(cohen_kappa([True, False], verdicts))
                                              if cohen_kappa([True, False], verdicts) is not None else None)
    assert metrics["rag"]["judge_supported_rate"] == float(judged["q3"]["supported"])
