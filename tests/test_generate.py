"""Batched generation on a tiny random Llama (2 layers, hidden 64) with a tokenizer trained here: fast, offline."""

from __future__ import annotations

import json

import pytest
import torch

from lhama.cli import main
from lhama.config.sections import GenerationConfig, PromptConfig
from lhama.generate import Generation, generate, pad_left, throughput
from lhama.models import load_model
from lhama.prompts import render
from tiny_models import QUESTIONS, build_tiny_model


def format_prompts(tokenizer, users, system: str = ""):
    return render(tokenizer, users, prompt=PromptConfig(instruction=system), chat=True)

@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "model"
    build_tiny_model(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_model(tiny_dir, dtype="float32", device="cpu")


def greedy(max_new_tokens=12, batch_size=8):
    return GenerationConfig(max_new_tokens=max_new_tokens, batch_size=batch_size)


def test_tokenizer_prepared_for_generation(tiny):
    _, tokenizer = tiny
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token == tokenizer.eos_token == "<|im_end|>"


def test_batched_greedy_equals_one_at_a_time(tiny):
    model, tokenizer = tiny
    prompts = format_prompts(tokenizer, QUESTIONS)
    lengths = {len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts}
    assert len(lengths) >= 5  # the batched runs really pad
    single = [generate(model, tokenizer, [p], greedy(batch_size=1), progress=False)[0] for p in prompts]
    for batch_size in (1, 3, 8):
        batched = generate(model, tokenizer, prompts, greedy(batch_size=batch_size), progress=False)
        assert [g.text for g in batched] == [g.text for g in single], batch_size
        assert [g.new_tokens for g in batched] == [g.new_tokens for g in single], batch_size
    assert any(g.text for g in single)


def test_left_padding_and_attention_mask(tiny, monkeypatch):
    model, tokenizer = tiny
    seen = []
    real = model.generate

    def spy(*args, **kwargs):
        seen.append((kwargs["input_ids"].clone(), kwargs["attention_mask"].clone()))
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "generate", spy)
    prompts = format_prompts(tokenizer, QUESTIONS)
    generate(model, tokenizer, prompts, greedy(max_new_tokens=2, batch_size=4), progress=False)
    assert len(seen) == 2
    padded_rows = 0
    for ids, mask in seen:
        for row in range(ids.shape[0]):
            real_length = int(mask[row].sum())
            # zeros then ones: padding on the left, prompt right-aligned against the generated tokens
            assert mask[row].tolist() == [0] * (ids.shape[1] - real_length) + [1] * real_length
            assert (ids[row, : ids.shape[1] - real_length] == tokenizer.pad_token_id).all()
            padded_rows += real_length < ids.shape[1]
        assert mask[:, -1].all()
    assert padded_rows > 0


def test_pad_left():
    ids, mask = pad_left([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]


def test_results_in_input_order(tiny):
    model, tokenizer = tiny
    prompts = format_prompts(tokenizer, QUESTIONS)
    forward = generate(model, tokenizer, prompts, greedy(batch_size=3), progress=False)
    backward = generate(model, tokenizer, prompts[::-1], greedy(batch_size=3), progress=False)
    assert [g.prompt_tokens for g in forward] == [len(tokenizer(p, add_special_tokens=False)["input_ids"])
                                                  for p in prompts]
    assert [g.text for g in backward] == [g.text for g in forward][::-1]
    # the internal order is by length, so input order is a real re-ordering
    assert [g.prompt_tokens for g in forward] != sorted((g.prompt_tokens for g in forward), reverse=True)


def test_max_new_tokens_respected(tiny, monkeypatch):
    model, tokenizer = tiny
    prompts = format_prompts(tokenizer, QUESTIONS)
    widths = []
    real = model.generate

    def spy(*args, **kwargs):
        output = real(*args, **kwargs)
        widths.append(output.shape[1] - kwargs["input_ids"].shape[1])
        return output

    monkeypatch.setattr(model, "generate", spy)
    for limit in (1, 5):
        widths.clear()
        results = generate(model, tokenizer, prompts, greedy(max_new_tokens=limit, batch_size=4), progress=False)
        assert all(1 <= g.new_tokens <= limit for g in results)
        assert max(g.new_tokens for g in results) == limit
        assert max(widths) == limit


def test_seeded_sampling_reproducible(tiny):
    model, tokenizer = tiny
    prompts = format_prompts(tokenizer, QUESTIONS[:4])

    def sample(seed):
        decoding = GenerationConfig(max_new_tokens=10, do_sample=True, temperature=1.5, batch_size=2, seed=seed)
        return [g.text for g in generate(model, tokenizer, prompts, decoding, progress=False)]

    torch.manual_seed(123)
    before = torch.rand(1)
    first = sample(7)
    after = torch.rand(1)
    torch.manual_seed(123)
    assert torch.rand(1) == before and torch.rand(1) == after  # the global RNG was left alone
    assert sample(7) == first
    assert sample(8) != first
    assert sample(7) != [g.text for g in generate(model, tokenizer, prompts, greedy(10, 2), progress=False)]


def test_throughput_counts_each_batch_once():
    generations = [Generation("a", 3, 10, 2.0, 0), Generation("b", 3, 10, 2.0, 0), Generation("c", 3, 20, 4.0, 1)]
    assert throughput(generations) == pytest.approx(40 / 6)


def test_generate_command(tiny_dir, capsys):
    assert main(["generate", str(tiny_dir), "--prompt", "Qual a capital do Brasil?", "--prompt", "Rio?",
                 "--max-new-tokens", "4", "--batch-size", "2", "--json", "--no-progress"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["prompt"] for line in lines] == ["Qual a capital do Brasil?", "Rio?"]
    assert all(1 <= line["new_tokens"] <= 4 and line["prompt_tokens"] > 5 for line in lines)
