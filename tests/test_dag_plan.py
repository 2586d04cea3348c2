"""`lhama.dag_plan`: every GPU job of the DAG sized from the config before anything is queued."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lhama.cli import main
from lhama.config.loading import load_config
from lhama.dag_plan import (
    CLEAN_CHARS_PER_DUMP_BYTE, EXAMPLES_PER_CLEAN_CHAR, HELDOUT, JUDGE_PROMPT_TOKENS, SEEN, answer_parts,
    corpus_size, dag_plan, dag_table, dry_run_line, encoder_params, generation_hours, question_bounds,
)
from lhama.config.sections import ClusterConfig
from lhama.errors import ConfigError
from lhama.workflow import question_sets

ROOT = Path(__file__).resolve().parents[1]
ATENA = ROOT / "config/atena.yaml"
A100 = ClusterConfig(gpu=True)


def atena(tmp_path: Path, extra: str = "") -> tuple:
    override = tmp_path / "extra.yaml"
    override.write_text(extra or "{}\n", encoding="utf-8")
    config = load_config([ATENA, override], ROOT)
    return config, question_sets(config.questions)


def test_decoding_is_bound_by_reading_the_weights_until_the_batch_is_large():
    # 7B in bf16 = 14 GB read per step at 2,039 GB/s x 0.5: 13.7 ms a step, 256 steps for one batch of 16
    hours = generation_hours(7e9, 16, 0, 256, 16, A100)
    assert hours * 3600 == pytest.approx(256 * 14e9 / (2039e9 * 0.5))
    # prefill is compute-bound: 2 FLOPs per parameter per prompt token at 312 TFLOP/s x 0.3
    prefill = generation_hours(7e9, 1000, 2000, 0, 16, A100)
    assert prefill * 3600 == pytest.approx(2 * 7e9 * 1000 * 2000 / (312e12 * 0.3))
    # a batch of 4,096 is compute-bound: each step costs its FLOPs, not a read of the weights
    big = generation_hours(7e9, 4096, 0, 1, 4096, A100)
    assert big * 3600 == pytest.approx(2 * 7e9 * 4096 / (312e12 * 0.3))


def test_question_sets_are_bounded_by_their_caps_files_and_corpus(tmp_path):
    config, files = atena(tmp_path)
    corpus = corpus_size(config, ROOT, exact=False)  # not downloaded: a nominal ptwiki dump
    bounds = question_bounds(config, files, corpus, ROOT)
    assert bounds == {"paper": 10, HELDOUT: 1000, SEEN: 1000}
    assert answer_parts(config, files, ROOT) == {"paper": 1, HELDOUT: 2, SEEN: 2}
    # uncapped, the held-out set is the test split's examples, estimated from the corpus
    config, files = atena(tmp_path, "evaluate: {heldout_questions: null}\n")
    uncapped = question_bounds(config, files, corpus, ROOT)[HELDOUT]
    assert uncapped == math.ceil(corpus.clean_chars * EXAMPLES_PER_CLEAN_CHAR * 0.1) > 100_000


def test_the_demo_corpus_bounds_the_held_out_set_below_its_cap(tmp_path):
    config = load_config([], ROOT)
    corpus = corpus_size(config, ROOT, exact=False)
    assert corpus.clean_chars == pytest.approx(61_800 * CLEAN_CHARS_PER_DUMP_BYTE["bz2"]) and not corpus.exact
    # the demo caps its held-out set at 12; with the cluster's cap of 1,000 the corpus's ~30 examples bound it
    bounds = question_bounds(config, question_sets(config.questions), corpus, ROOT)
    assert (config.evaluate.heldout_questions, bounds[HELDOUT]) == (12, 12)
    cluster_cap = tmp_path / "cap.yaml"
    cluster_cap.write_text("evaluate: {heldout_questions: 1000}\n", encoding="utf-8")
    config = load_config([cluster_cap], ROOT)
    bounds = question_bounds(config, question_sets(config.questions), corpus, ROOT)
    assert bounds[HELDOUT] == math.ceil(corpus.clean_chars * EXAMPLES_PER_CLEAN_CHAR * 0.1) == 30
    assert answer_parts(config, question_sets(config.questions), ROOT) == {"paper": 1, HELDOUT: 1, SEEN: 1}


def test_the_extraction_manifest_makes_the_corpus_exact(tmp_path):
    config = load_config([], ROOT)
    manifest = tmp_path / "results/corpus/articles/manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"counts": {"characters": 12345}}), encoding="utf-8")
    (tmp_path / "resources").symlink_to(ROOT / "resources")
    exact = corpus_size(config, tmp_path)
    assert (exact.clean_chars, exact.exact) == (12345, True) and "manifest.json" in exact.note
    assert not corpus_size(config, tmp_path, exact=False).exact  # what splits the answers ignores it


def test_every_gpu_job_of_the_atena_dag_is_planned(tmp_path):
    config, files = atena(tmp_path)
    plan = dag_plan(config, files, ROOT)
    assert plan.answer_parts == answer_parts(config, files, ROOT) == {"paper": 1, HELDOUT: 2, SEEN: 2}
    counts = {rule: count for rule, (count, _) in plan.by_rule().items()}
    assert counts == {"embed": 16, "train": 6, "perplexity": 3, "answer": 3 * 5 * 5,
                      "judge": 3 * 5 * 3}
    assert all(job.gpus >= 1 and job.hours > 0 for job in plan.jobs)
    big = plan.job("answer", "llama2-70b/rag/heldout/000")
    small = plan.job("answer", "llama2-7b/rag/heldout/000")
    assert big.gpus == 3 and small.gpus == 1 and big.hours > 5 * small.hours
    assert plan.job("answer", "llama2-7b/rag/paper/000").hours < small.hours  # 10 questions, not 500
    # rag prompts carry k = 5 passages of 384 tokens: longer to prefill than the bare question
    assert small.hours > plan.job("answer", "llama2-7b/base/heldout/000").hours
    for job in plan.jobs:
        assert job.runtime_min >= math.ceil(job.hours * 60 * 1.5) + 15
    assert plan.total_gpu_hours == pytest.approx(sum(job.hours * job.gpus for job in plan.jobs))
    text = dag_table(plan)
    assert f"total: {len(plan.jobs)} jobs, {plan.total_gpu_hours:,.1f} GPU-hours" in text
    assert dry_run_line(plan).startswith(f"lhama plan: {plan.total_gpu_hours:,.1f} GPU-hours estimated (embed 16 jobs")


def test_more_questions_per_job_means_fewer_longer_jobs(tmp_path):
    config, files = atena(tmp_path, "generation: {shard_questions: 100}\n")
    plan = dag_plan(config, files, ROOT)
    heldout = [job for job in plan.jobs if job.name.startswith("llama2-7b/base/heldout/")]
    assert len(heldout) == 10
    coarse = dag_plan(*atena(tmp_path), ROOT)
    assert coarse.job("answer", "llama2-7b/base/heldout/000").hours > heldout[0].hours


def test_a_job_past_the_partition_limit_is_named(tmp_path):
    config, files = atena(tmp_path, "cluster: {max_runtime_min: 600}\n")
    with pytest.raises(ConfigError, match=r"cluster.max_runtime_min.*train job llama2-70b/raft needs about 10\.\d h"):
        dag_plan(config, files, ROOT)


def test_a_cpu_config_plans_no_gpu_hours():
    config = load_config([], ROOT)
    plan = dag_plan(config, question_sets(config.questions), ROOT)
    assert plan.total_gpu_hours == 0 and all(job.gpus == 0 for job in plan.jobs)
    assert "cluster.gpu is false" in dry_run_line(plan)


def test_encoder_size_from_its_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({
        "hidden_size": 384, "num_hidden_layers": 6, "intermediate_size": 1536, "vocab_size": 30522,
        "max_position_embeddings": 512}))
    assert encoder_params(tmp_path) == pytest.approx(22.7e6, rel=0.02)  # all-MiniLM-L6-v2: 22.7M parameters
    assert encoder_params(tmp_path / "nowhere") is None


def test_plan_command_prints_every_job_as_json(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["plan", "--config", "config/atena.yaml", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"jobs", "total_gpu_hours"}
    assert set(printed["jobs"][0]) == {"rule", "model", "name", "gpus", "mem_mb", "hours", "gpu_hours",
                                       "runtime_min"}
    assert printed["total_gpu_hours"] == pytest.approx(sum(job["gpu_hours"] for job in printed["jobs"]), abs=0.01)
    assert main(["plan", "--config", "config/atena.yaml"]) == 0
    table = capsys.readouterr().out
    assert "judge  llama2-70b" in table and "GPU-hours estimated" in table


def test_the_judge_is_one_job_per_answer_file(tmp_path):
    plan = dag_plan(*atena(tmp_path), ROOT)
    judges = [job for job in plan.jobs if job.rule == "judge"]
    assert {job.model for job in judges} == {"llama2-70b"} and len(judges) == 3 * 5 * 3
    base, rag = plan.job("judge", "llama2-7b/base/heldout"), plan.job("judge", "llama2-7b/rag/heldout")
    assert rag.hours > 2 * base.hours  # answers given with passages: a second question, carrying the passages
    # each question asked is read once (the choices share its KV cache): 2 FLOPs per judge parameter per token
    asked = JUDGE_PROMPT_TOKENS + 256
    assert base.hours == pytest.approx(2 * 69.0e9 * 1000 * asked / (312e12 * 0.3) / 3600)
    assert plan.job("judge", "llama2-7b/base/paper").hours == pytest.approx(base.hours * 10 / 1000)
    assert max(job.runtime_min for job in judges) < 6 * 60
