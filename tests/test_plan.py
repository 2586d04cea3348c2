"""The memory planner against published figures (within 25%) and its own invariants.

Published figures in decimal GB are converted to GiB (the planner's unit); GPU capacities are card labels read
as GiB (an "80 GB" A100 has 80 GiB).
"""

from __future__ import annotations

import argparse
import json

import pytest

from lhama.errors import ConfigError
from lhama.plan import PlanInput, add_commands, estimate, plan_table

GB = 1e9 / 2**30  # one decimal GB in GiB
TOLERANCE = 0.25


def near(value: float, published: float, tolerance: float = TOLERANCE) -> bool:
    return abs(value / published - 1) <= tolerance


# --- QLoRA paper: 65B fine-tuned on one 48 GB GPU (r=64 on all linear layers, paged 8-bit AdamW,
#     seq 512, micro-batch 1, gradient checkpointing)
def test_qlora_65b_fits_one_48gb_gpu():
    e = estimate(PlanInput(65e9, "qlora", lora_r=64, optimizer="paged_adamw8bit", gpu_mem_gb=48))
    assert e.fits
    assert e.total > 32  # the 4-bit weights alone are ~31 GiB: a planner that forgets them must fail


# --- LLaMA-Factory's hardware table (assumed: batch 1, seq 512, gradient checkpointing, LoRA r=16 on all
#     linear layers, AdamW, bf16)
@pytest.mark.parametrize("params, method, published_gb", [
    (6.74e9, "qlora", 6),
    (69e9, "qlora", 48),
    (6.74e9, "lora", 16),
])
def test_llama_factory_table(params, method, published_gb):
    e = estimate(PlanInput(params, method))
    assert near(e.total, published_gb * GB), (e.total, published_gb * GB)


# --- litgpt tutorials/resource-tables.md (A100 40GB, 2023-10-20): Llama-2-13B LoRA, bnb.nf4, micro-batch 1,
#     23.14 GB max allocated. Their setting: Alpaca, longest example 1304 tokens, bf16-true, no activation
#     checkpointing, SDPA (flash) attention, r=8 on query and value only = 6,553,600 trainable parameters.
def test_litgpt_13b_lora_nf4():
    e = estimate(PlanInput(13e9, "qlora", seq_len=1304, gradient_checkpointing=False, flash_attention=True,
                           lora_fraction=6_553_600 / 13e9, gpu_mem_gb=40))
    assert near(e.total, 23.14 * GB), (e.total, 23.14 * GB)
    assert e.fits


# --- DeepSpeed ZeRO-3 model-state formula for Llama-2-70B (~69e9 parameters)
def test_70b_full_finetune_states_and_does_not_fit_on_three_a100s():
    e = estimate(PlanInput(69e9, "full", gpus=3, zero_stage=3, gpu_mem_gb=80))
    states_overall = (e.weights + e.gradients + e.optimizer) * 3  # 16 bytes/param in all
    assert near(states_overall, 1028), states_overall
    assert not e.fits


def test_70b_lora_bf16_base_zero3_weights_per_gpu():
    e = estimate(PlanInput(69e9, "lora", gpus=3, zero_stage=3, gpu_mem_gb=80))
    assert near(e.weights, 43), e.weights
    assert near(e.weights * 3, 128), e.weights


def test_70b_qlora_fits_one_80gb_gpu():
    e = estimate(PlanInput(69e9, "qlora", gpu_mem_gb=80))
    assert e.fits
    assert 32 * (1 - TOLERANCE) <= e.weights <= 37 * (1 + TOLERANCE)  # published: ~32-37 GiB of weights


# --- invariants
def test_more_gpus_lower_weights_under_zero3():
    per_gpu = [estimate(PlanInput(69e9, "full", gpus=n, zero_stage=3)).weights for n in (1, 2, 3, 8)]
    assert per_gpu == sorted(per_gpu, reverse=True) and len(set(per_gpu)) == 4


def test_zero_stages_partition_in_order():
    stages = [estimate(PlanInput(7e9, "full", gpus=4, zero_stage=s)) for s in range(4)]
    assert stages[1].optimizer < stages[0].optimizer and stages[1].gradients == stages[0].gradients
    assert stages[2].gradients < stages[1].gradients and stages[2].weights == stages[1].weights
    assert stages[3].weights < stages[2].weights


def test_longer_sequences_raise_activations():
    acts = [estimate(PlanInput(13e9, "lora", seq_len=s)).activations for s in (256, 512, 2048, 4096)]
    assert acts == sorted(acts) and len(set(acts)) == 4


def test_checkpointing_lowers_activations():
    with_ckpt = estimate(PlanInput(13e9, "lora", seq_len=2048)).activations
    without = estimate(PlanInput(13e9, "lora", seq_len=2048, gradient_checkpointing=False)).activations
    assert without > 5 * with_ckpt


def test_weights_qlora_below_lora_below_full():
    w = {m: estimate(PlanInput(13e9, m)).weights for m in ("qlora", "lora", "full")}
    assert w["qlora"] < w["lora"] == w["full"]
    totals = {m: estimate(PlanInput(13e9, m)).total for m in ("qlora", "lora", "full")}
    assert totals["qlora"] < totals["lora"] < totals["full"]


def test_offload_moves_optimizer_and_params_off_gpu():
    base = estimate(PlanInput(69e9, "full", gpus=3, zero_stage=3))
    off = estimate(PlanInput(69e9, "full", gpus=3, zero_stage=3, offload_optimizer=True, offload_params=True))
    assert off.optimizer == 0 and off.weights == 0 and off.total < base.total


def test_total_is_sum_of_parts_and_notes_present():
    e = estimate(PlanInput(7e9, "lora"))
    parts = e.weights + e.lora + e.gradients + e.optimizer + e.activations + e.overhead
    assert e.total == pytest.approx(parts, abs=0.01)
    assert e.notes and any("overhead" in n for n in e.notes)


@pytest.mark.parametrize("kwargs, key", [
    (dict(params=0, method="full"), "params"),
    (dict(params=7e9, method="prefix"), "method"),
    (dict(params=7e9, method="full", precision="int8"), "precision"),
    (dict(params=7e9, method="full", zero_stage=4), "zero_stage"),
    (dict(params=7e9, method="full", gpus=0), "gpus"),
    (dict(params=7e9, method="lora", lora_fraction=1.5), "lora_fraction"),
    (dict(params=7e9, method="full", optimizer="sgd"), "optimizer"),
    (dict(params=7e9, method="full", offload_params=True), "offload_params"),
    (dict(params=7e9, method="full", seq_len=0), "seq_len"),
])
def test_bad_inputs_raise_config_error(kwargs, key):
    with pytest.raises(ConfigError) as raised:
        PlanInput(**kwargs)
    assert raised.value.key == key


def test_impossible_shape_is_a_config_error():
    with pytest.raises(ConfigError):
        estimate(PlanInput(1e9, "full", hidden_size=8192, num_layers=80))


def test_plan_table_lists_every_row():
    table = plan_table([PlanInput(7e9, "lora"), PlanInput(69e9, "full", gpus=3, zero_stage=3)])
    assert "7.0B" in table and "69.0B" in table and " no" in table and "yes" in table


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="lhama")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.run(args)
    return capsys.readouterr().out


def test_cli_text_and_json(capsys):
    out = _run(["plan", "--params", "70e9", "--method", "full", "--gpus", "3", "--gpu-mem-gb", "80",
                "--zero-stage", "3"], capsys)
    assert out.strip().endswith("does not fit")
    out = _run(["plan", "--params", "70B", "--method", "qlora", "--json"], capsys)
    data = json.loads(out)
    assert data["estimate"]["fits"] is True and data["input"]["params"] == 70e9


def test_cli_bad_value_is_config_error(capsys):
    with pytest.raises(ConfigError):
        _run(["plan", "--params", "7e9", "--method", "full", "--gpus", "0"], capsys)
