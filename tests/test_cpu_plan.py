"""`lhama.cpu_plan`: the corpus-sized CPU jobs' time limits and memory from bench_scale.py's measured rates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lhama.config.loading import load_config, rule_resources
from lhama.cpu_plan import BENCH_DIM, RATES_PATH, SHORTER, chunks_of, cpu_jobs, estimate, load_rates
from lhama.dag_plan import dag_plan, dag_table
from lhama.errors import ConfigError
from lhama.workflow import question_sets

ROOT = Path(__file__).resolve().parents[1]
RULES = {rule: {"fixed_s": 10.0, "s_per_mchar": 2.0, "rss_fixed_mb": 300.0, "rss_mb_per_mchar": 5.0}
         for rule in SHORTER}
RATES = {"cores": 2, "rules": RULES}


def config_with(tmp_path: Path, text: str = "{}\n"):
    override = tmp_path / "extra.yaml"
    override.write_text(text, encoding="utf-8")
    return load_config([ROOT / "config/atena.yaml", override], ROOT)


def by_name(jobs):
    return {(job.rule, job.name): job for job in jobs}


def test_the_shipped_rates_say_where_they_come_from():
    rates = load_rates()
    assert rates["measured_by"] == "benchmarks/bench_scale.py" and len(rates["sizes_mb_xml"]) >= 3
    assert set(rates["rules"]) == set(SHORTER)
    assert all(rate["s_per_mchar"] > 0 for rate in rates["rules"].values())


def test_rates_missing_a_figure_name_the_file_and_rule(tmp_path):
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"cores": 2, "rules": {**RULES, "index": {"fixed_s": 1.0}}}))
    with pytest.raises(ValueError, match=r"rates\.json: rule 'index' lacks rss_fixed_mb, rss_mb_per_mchar"):
        load_rates(path)


def test_a_job_costs_its_fixed_part_plus_its_characters():
    assert estimate(RULES["qa"], 1000.0) == (10.0 + 2000.0, 300.0 + 5000.0)


def test_limits_grow_with_the_corpus_and_never_fall_under_the_configured_floor(tmp_path):
    config = config_with(tmp_path)
    small = by_name(cpu_jobs(config, 1e6, BENCH_DIM, RATES))
    large = by_name(cpu_jobs(config, 4e9, BENCH_DIM, RATES))  # about a full ptwiki's clean text
    for key, job in small.items():
        floor = rule_resources(config.resources, key[0])
        assert job.runtime_min == floor["runtime"] and job.mem_mb == floor["mem_mb"]  # 1 M characters: the floors
    qa = large["qa", "qa"]
    assert qa.hours == pytest.approx((10 + 2 * 4000) / 3600)
    assert qa.runtime_min == math.ceil(qa.hours * 60 * 1.5) + 15 and qa.mem_mb == math.ceil((300 + 5 * 4000) * 1.5)
    shards = [job for job in large.values() if job.rule == "chunk"]
    assert len(shards) == config.rag.shards  # one per shard, each reading its share
    assert shards[0].hours == pytest.approx((10 + 2 * 4000 / config.rag.shards) / 3600)


def test_extraction_with_fewer_workers_than_measured_takes_longer_and_more_earn_no_credit(tmp_path):
    one = by_name(cpu_jobs(config_with(tmp_path, "extract: {workers: 1}\n"), 4e9, BENCH_DIM, RATES))
    two = by_name(cpu_jobs(config_with(tmp_path, "extract: {workers: 2}\n"), 4e9, BENCH_DIM, RATES))
    many = by_name(cpu_jobs(config_with(tmp_path, "extract: {workers: 16}\n"), 4e9, BENCH_DIM, RATES))
    assert one["extract", "extract"].hours == pytest.approx(2 * two["extract", "extract"].hours)
    assert many["extract", "extract"].hours == two["extract", "extract"].hours
    assert many["extract", "extract"].cpus == 16


def test_the_index_holds_its_vectors_at_the_embedders_dimension(tmp_path):
    config = config_with(tmp_path, "resources: {index: {mem_mb: 1000}}\n")
    bench = by_name(cpu_jobs(config, 4e9, BENCH_DIM, RATES))["index", "index"]
    wide = by_name(cpu_jobs(config, 4e9, 1024, RATES))["index", "index"]
    vectors_mb = 2 * chunks_of(config, 4e9) * (1024 - BENCH_DIM) * 4 / 1e6
    assert wide.mem_mb == math.ceil((300 + 5 * 4000 + vectors_mb) * 1.5) > bench.mem_mb


def test_a_cpu_job_past_the_partition_limit_is_named(tmp_path):
    config = config_with(tmp_path, "cluster: {max_runtime_min: 2880}\n")
    slow = {"cores": 2, "rules": {**RULES, "index": {**RULES["index"], "s_per_mchar": 100.0}}}
    with pytest.raises(ConfigError, match=r"cluster.max_runtime_min.*index job index needs about 111\.\d h"):
        cpu_jobs(config, 4e9, BENCH_DIM, slow)


def test_the_atena_plan_sizes_every_cpu_job_from_the_shipped_rates(tmp_path):
    config = config_with(tmp_path)
    plan = dag_plan(config, question_sets(config.questions), ROOT)
    rules = [job.rule for job in plan.cpu_jobs]
    assert rules == ["extract", "qa", "split", *["chunk"] * config.rag.shards, "index"]
    assert plan.cpu_job("chunk", "000").runtime_min >= rule_resources(config.resources, "chunk")["runtime"]
    assert all(job.hours > 0 and job.runtime_min <= (config.cluster.max_runtime_min or 10**9)
               for job in plan.cpu_jobs)
    assert {job["rule"] for job in plan.to_json()["cpu_jobs"]} == set(SHORTER)
    assert "cpu rule" in dag_table(plan) and "lhama/data/cpu_rates.json" in dag_table(plan)
    assert RATES_PATH.is_file()
