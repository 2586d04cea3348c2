"""lhama.perplexity on the real SmolLM2-135M (the session's prepared demo model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lhama.config.sections import PerplexityConfig
from lhama.errors import ConfigError
from lhama.perplexity import _windows, heldout_perplexity, heldout_texts, perplexity, within_token_budget

TEXT = ("O Brasil é o maior país da América do Sul. A capital é Brasília e a cidade mais populosa é São Paulo. "
        "O território foi colônia de Portugal a partir de 1500 e tornou-se independente em 1822.")


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    from lhama.models import load_model

    model, tokenizer = load_model(smollm2_dir, dtype="float32")
    return smollm2_dir, model, tokenizer


def test_windows_score_every_token_once():
    ids = list(range(23))
    for max_length, stride in ((8, 4), (8, 7), (8, 1), (30, 10), (2, 1)):
        windows = _windows(ids, max_length, stride)
        scored = [token for window, count in windows for token in window[len(window) - count:]]
        assert scored == ids[1:]
        assert all(len(window) <= max_length and count <= len(window) - 1 for window, count in windows)
    assert _windows([5], 8, 4) == []


def test_matches_manual_computation(smollm2):
    import torch

    _, model, tokenizer = smollm2
    result = perplexity(model, tokenizer, [TEXT], max_length=512, stride=256)
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        loss = model(input_ids=ids, labels=ids).loss.item()  # mean NLL over tokens 2..n
    assert result["tokens"] == ids.shape[1] - 1 and result["texts"] == 1
    assert result["ppl"] == pytest.approx(math.exp(loss), rel=1e-4)
    assert result["nll_sum"] == pytest.approx(loss * result["tokens"], rel=1e-4)
    assert result["bytes"] == len(TEXT.encode("utf-8"))
    # bits per byte and perplexity describe the same NLL: bpb = ln(ppl) * tokens / (bytes * ln 2)
    assert result["bits_per_byte"] == pytest.approx(math.log(result["ppl"]) * result["tokens"]
                                                    / (result["bytes"] * math.log(2)), rel=1e-9)
    # short windows: same tokens scored, less context, so a higher perplexity; batching does not change it
    short = perplexity(model, tokenizer, [TEXT, TEXT[:80]], max_length=16, stride=8, batch_size=3)
    short_one = perplexity(model, tokenizer, [TEXT, TEXT[:80]], max_length=16, stride=8, batch_size=1)
    assert short["ppl"] == pytest.approx(short_one["ppl"], rel=1e-4)
    alone = perplexity(model, tokenizer, [TEXT], max_length=16, stride=8)
    assert alone["tokens"] == result["tokens"] and alone["ppl"] > result["ppl"]
    with pytest.raises(ConfigError):
        perplexity(model, tokenizer, [TEXT], max_length=16, stride=16)


def test_tuned_model_has_lower_perplexity_on_its_text(smollm2):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder, model, tokenizer = smollm2
    base = perplexity(model, tokenizer, [TEXT])
    fresh = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tuned = get_peft_model(fresh, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                             task_type="CAUSAL_LM"))
    optimizer = torch.optim.AdamW([p for p in tuned.parameters() if p.requires_grad], lr=2e-3)
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    torch.manual_seed(0)
    tuned.train()
    for _ in range(5):
        loss = tuned(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    after = perplexity(tuned, tokenizer, [TEXT])
    assert after["ppl"] < base["ppl"] and after["bits_per_byte"] < base["bits_per_byte"]
    assert after["tokens"] == base["tokens"]


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    articles = [{"id": 1, "title": "Brasil", "text": TEXT}, {"id": 2, "title": "Lisboa", "text": "Lisboa é a capital "
                "de Portugal. " * 5}, {"id": 3, "title": "Peru", "text": "Lima é a capital do Peru. " * 5}]
    (folder / "articles-00000.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    (folder / "manifest.json").write_text(json.dumps({"shards": [{"file": "articles-00000.jsonl", "articles": 3}]}))


def test_heldout_texts_and_end_to_end(smollm2, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder, _, _ = smollm2
    write_corpus(tmp_path / "articles")
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps({"input": "?", "output": "!", "source_id": source}) + "\n"
                            for source in (3, 1, 3, 99)))
    pairs = heldout_texts(tmp_path / "articles", test)
    assert [title for title, _ in pairs] == ["Peru", "Brasil"]  # test order, each once, missing ones skipped
    assert heldout_texts(tmp_path / "articles", test, max_articles=1, max_chars=10) == [("Peru", "Lima é a c")]

    adapter = tmp_path / "adapter"  # an untrained LoRA (B = 0): tuned must equal base exactly
    get_peft_model(AutoModelForCausalLM.from_pretrained(folder),
                   LoraConfig(r=4, target_modules=["q_proj"], task_type="CAUSAL_LM")).save_pretrained(adapter)
    out = tmp_path / "perplexity.json"
    result = heldout_perplexity(folder, tmp_path / "articles", test, out, adapter_dir=adapter,
                                config=PerplexityConfig(max_length=32, stride=16))
    assert json.loads(out.read_text()) == json.loads(json.dumps(result))
    assert result["articles"] == 2 and result["config"]["stride"] == 16
    assert result["sample"]["population"] == 3 and result["sample"]["max_tokens"] == PerplexityConfig.max_tokens
    assert result["tuned"]["ppl"] == pytest.approx(result["base"]["ppl"], rel=1e-5)
    assert result["base"]["tokens"] > 0 and result["base"]["bits_per_byte"] > 0


def test_a_seeded_sample_and_a_character_budget_read_only_a_prefix_of_it(tmp_path):
    write_corpus(tmp_path / "articles")
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps({"input": "?", "output": "!", "source_id": source}) + "\n"
                            for source in (1, 2, 3)))
    orders = {seed: [title for title, _ in heldout_texts(tmp_path / "articles", test, seed=seed)] for seed in range(6)}
    assert all(sorted(order) == ["Brasil", "Lisboa", "Peru"] for order in orders.values())
    assert len({tuple(order) for order in orders.values()}) > 1  # the seed orders the sample
    assert orders[4] == [title for title, _ in heldout_texts(tmp_path / "articles", test, seed=4)]
    # the shortest prefix of the seeded order that holds the budget: the first article alone when it does
    first = heldout_texts(tmp_path / "articles", test, seed=4)
    assert heldout_texts(tmp_path / "articles", test, seed=4, char_budget=len(first[0][1])) == first[:1]
    assert heldout_texts(tmp_path / "articles", test, seed=4, char_budget=len(first[0][1]) + 1) == first[:2]
    assert heldout_texts(tmp_path / "articles", test, seed=4, char_budget=10**9) == first


def test_token_budget_cuts_the_last_text_where_it_ends(smollm2):
    _, _, tokenizer = smollm2
    pairs = [("Brasil", TEXT), ("Peru", "Lima é a capital do Peru. " * 5), ("Lisboa", "Lisboa é a capital.")]
    sizes = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for _, text in pairs]
    kept = within_token_budget(pairs, tokenizer, sizes[0] + 5)
    assert [title for title, _ in kept] == ["Brasil", "Peru"] and kept[0] == pairs[0]
    assert pairs[1][1].startswith(kept[1][1]) and len(tokenizer(kept[1][1], add_special_tokens=False)["input_ids"]) == 5
    assert within_token_budget(pairs, tokenizer, None) == pairs
    assert within_token_budget(pairs, tokenizer, sum(sizes)) == pairs
