"""The memory planner against published figures (within 25%) and its own invariants.

Published figures in decimal GB are converted to GiB (the planner's unit); GPU capacities are card labels read
as GiB (an "80 GB" A100 has 80 GiB).
"""

from __future__ import annotations

import json

import pytest

from lhama.errors import ConfigError
from lhama.cli import main
from lhama.plan import PlanInput, estimate, plan_table

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
    assert main(argv) == 0
    return capsys.readouterr().out


def test_cli_text_and_json(capsys):
    out = _run(["plan", "--params", "70e9", "--method", "full", "--gpus", "3", "--gpu-mem-gb", "80",
                "--zero-stage", "3"], capsys)
    assert out.strip().endswith("does not fit")
    out = _run(["plan", "--params", "70B", "--method", "qlora", "--json"], capsys)
    data = json.loads(out)
    assert data["estimate"]["fits"] is True and data["input"]["params"] == 70e9


def test_cli_bad_value_is_config_error(capsys):
    assert main(["plan", "--params", "7e9", "--method", "full", "--gpus", "0"]) == 1
    assert "config key 'gpus'" in capsys.readouterr().err


# --- the workflow's jobs, planned from the config a run would see

from pathlib import Path  # noqa: E402

from lhama.config.loading import load_config, parse  # noqa: E402
from lhama.config.sections import ClusterConfig, TrainConfig  # noqa: E402
from lhama.plan import jobs_table, training_plan  # noqa: E402
from lhama.workflow import workflow_plans  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ATENA = str(ROOT / "config" / "atena.yaml")
GPU_CLUSTER = ClusterConfig(gpu=True, gpu_mem_gb=80, gpus_per_node=3, gpu_tflops=312, mfu=0.3, cpus_per_gpu=8,
                            mem_mb_per_gpu=160000)


def train(mapping: dict) -> TrainConfig:
    return parse(TrainConfig, mapping, "train")


def test_atena_jobs_fit_and_are_sized_from_the_plan():
    plans = {(job.model, job.adapter): job for job in workflow_plans(load_config([ATENA], ROOT), ROOT)}
    models = ("llama2-7b", "llama2-13b", "llama2-70b")  # the demo model is dropped by `smollm2: null`
    assert set(plans) == {(model, adapter) for model in models for adapter in ("tuned", "raft")}
    for name in ("llama2-7b", "llama2-13b"):
        job = plans[name, "tuned"]
        assert job.plan.method == "qlora" and job.gpus == 1 and job.tasks == 1 and job.estimate.fits
        assert job.plan.optimizer == "adafactor" and job.plan.seq_len == 512 and job.plan.micro_batch == 2
        # the RAFT adapter inherits the model's training and overrides what its longer prompts need
        raft = plans[name, "raft"]
        assert raft.plan.method == "qlora" and raft.plan.optimizer == "adafactor" and raft.estimate.fits
        assert raft.plan.seq_len == 4096 and raft.plan.micro_batch == 1 and raft.hours > job.hours
    big = plans["llama2-70b", "tuned"]
    assert big.gpus == 3 and big.tasks == 3 and big.plan.zero_stage == 3 and big.estimate.fits
    assert 30 < big.estimate.total < 76  # anchors.md: ~43 GiB/GPU of weights under ZeRO-3, plus activations
    assert big.mem_mb == 3 * 160000 and big.cpus == 24
    assert big.gpu_hours > plans["llama2-13b", "tuned"].gpu_hours > plans["llama2-7b", "tuned"].gpu_hours > 0
    assert plans["llama2-70b", "raft"].estimate.fits and plans["llama2-70b", "raft"].gpus == 3
    table = jobs_table(list(plans.values()))
    rows = table.splitlines()[2:]
    assert len(rows) == 6 and all(row.split()[-1] == "yes" for row in rows)


def test_a_job_that_cannot_fit_stops_with_the_model_named():
    config = train({"method": "full", "launcher": {"type": "torchrun", "nodes": 1, "processes_per_node": 3},
                    "deepspeed": "config/deepspeed/zero3.json", "args": {"bf16": True, "max_length": 512,
                                                                         "per_device_train_batch_size": 2}})
    with pytest.raises(ConfigError) as error:
        training_plan("llama2-70b", 69e9, config, GPU_CLUSTER, {"mem_mb": 64000, "runtime": 240}, ROOT)
    assert error.value.key == "models.llama2-70b.train"
    assert "full of 69B parameters needs about" in str(error.value) and "GiB per GPU on 3 GPU(s)" in str(error.value)


def test_more_processes_than_gpus_per_node_is_refused():
    config = train({"method": "lora", "launcher": {"type": "torchrun", "nodes": 1, "processes_per_node": 4}})
    with pytest.raises(ConfigError) as error:
        training_plan("m", 7e9, config, GPU_CLUSTER, {}, ROOT)
    assert error.value.key == "models.m.train.launcher.processes_per_node"


def test_cpu_jobs_take_resources_from_config():
    job = training_plan("smollm2", 1.35e8, train({"method": "lora", "args": {"max_steps": 60}}), ClusterConfig(),
                        {"mem_mb": 8000, "runtime": 60, "cpus": 2})
    assert (job.gpus, job.mem_mb, job.runtime_min, job.cpus, job.gpu_hours) == (0, 8000, 60, 2, 0.0)


def test_shape_comes_from_the_model_config_where_there_is_one(tmp_path):
    from lhama.plan import PlanInput, config_shape, estimate

    assert config_shape(tmp_path) is None
    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 49152,
        "tie_word_embeddings": True}))
    shape = config_shape(tmp_path)
    assert shape == {"hidden_size": 64, "num_layers": 2, "vocab_size": 49152, "tied_embeddings": True}
    with pytest.raises(ConfigError, match="cannot fill"):  # the Llama-2 family's shape has no room at 3.3M
        estimate(PlanInput(params=3.3e6, method="lora"))
    result = estimate(PlanInput(params=3.3e6, method="lora", **shape))
    assert "hidden 64, 2 layers" in result.notes[0] and "from the model's config" in result.notes[0]


def test_attention_heads_and_key_value_heads_come_from_the_config(tmp_path):
    from lhama.plan import PlanInput, config_shape, model_shape

    (tmp_path / "config.json").write_text(json.dumps({  # Llama-2-70B's config.json
        "hidden_size": 8192, "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
        "vocab_size": 32000, "intermediate_size": 28672}))
    shape = config_shape(tmp_path)
    assert (shape["num_heads"], shape["num_kv_heads"]) == (64, 8)
    derived = model_shape(PlanInput(params=69e9, method="lora", **shape))
    assert (derived.heads, derived.kv_dim, derived.layers) == (64, 1024, 80)
    assert abs(derived.ffn - 28672) / 28672 < 0.05  # the FFN width the parameter count leaves


def test_the_prepared_model_folder_gives_the_shape_first(tmp_path):
    from lhama.config.loading import model_entries
    from lhama.workflow import model_config_shape

    config = load_config([], ROOT)
    name, entry = next(iter(model_entries(config).items()))
    assert model_config_shape(name, entry, tmp_path) is None  # a GGUF package: no config.json before preparing
    prepared = tmp_path / "results/models" / name / "base"
    prepared.mkdir(parents=True)
    (prepared / "config.json").write_text(json.dumps({
        "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "vocab_size": 49152, "tie_word_embeddings": True}))
    assert model_config_shape(name, entry, tmp_path) == {
        "hidden_size": 576, "num_layers": 30, "vocab_size": 49152, "tied_embeddings": True, "num_heads": 9,
        "num_kv_heads": 3}
