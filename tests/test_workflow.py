"""The Snakemake workflow as a user runs it: dry runs and bad config; the embedded demo end to end, run once and read
by several tests (the report, a browser, what a changed config key reruns, nothing to do, a failed shard)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import browser
from lhama.config.loading import load_config
from lhama.dag_plan import dag_plan
from lhama.dump import Page, SiteInfo
from lhama.dump_writer import write_xml
from lhama.files import read_tsv
from lhama.training_rows import chosen_rows
from lhama.workflow import question_sets

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "resources")
LEAN = ROOT / "tests" / "demo-lean.yaml"
DEMO_ARGS = ("--configfile", "config/lean.yaml")


def copy_workflow(dest: Path) -> Path:
    """A copy of the workflow (not of results/) so tests never touch the checkout's outputs."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, dest / name)
    return dest


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path / "workflow")


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([SNAKEMAKE, "--cores", "2", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=timeout)


def dry_run_jobs(plan: str) -> dict[str, list[dict]]:
    """Jobs of a `snakemake -n` printout by rule: each with its wildcards and resources."""
    jobs: dict[str, list[dict]] = {}
    current = None
    for line in plan.splitlines():
        stripped = line.strip()
        if stripped.startswith(("rule ", "localrule ")) and stripped.endswith(":"):
            current = {"wildcards": "", "resources": {}}
            jobs.setdefault(stripped.split()[1].rstrip(":"), []).append(current)
        elif current is not None and stripped.startswith("wildcards: "):
            current["wildcards"] = stripped.removeprefix("wildcards: ")
        elif current is not None and stripped.startswith("resources: "):
            items = stripped.removeprefix("resources: ").split(", ")
            current["resources"] = dict(item.split("=", 1) for item in items if "=" in item)
    return jobs


# ---------------------------------------------------------------------------------------------------- dry runs


def test_dry_run_plans_every_rule(workdir):
    result = snakemake(workdir, "-n")
    assert result.returncode == 0, result.stderr
    for rule in ("extract", "qa", "split", "corpus_stats", "check_questions", "provenance", "train", "answer",
                 "report"):
        assert rule in dry_run_jobs(result.stdout)


@pytest.mark.parametrize(("override", "expected"), [
    ("extract={'bogus': 1}", "config key 'extract.bogus': unknown key"),
    ("speling=1", "config key 'speling': unknown key"),
    ("extract={'workers': 0}", "config key 'extract.workers'"),
    ("split={'by': 'title'}", "config key 'split.by'"),
    ("generation={'max_new_tokens': 'eight'}", "--config: config key 'generation.max_new_tokens': Input should be "
                                               "a valid integer"),
    ("train={'args': {'learning_rat': 1e-4}}", "--config: config key 'train.args.learning_rat': not an SFTConfig"),
    ("train={'args': {'lr_scheduler_type': 'cosinus'}}", "config key 'train.args.lr_scheduler_type': argument "
                                                         "--lr_scheduler_type/--lr-scheduler-type: invalid choice"),
])
def test_bad_config_key_is_named(workdir, override, expected):
    result = snakemake(workdir, "-n", "--config", override)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_a_judge_is_its_own_job_and_must_be_a_model(workdir):
    result = snakemake(workdir, "-n", "--config", "evaluate={'judge': 'smollm2'}")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = dry_run_jobs(result.stdout)
    assert len(jobs["judge"]) == 5 * 3 and "evaluate" in jobs  # one per answer file: variants x question sets
    result = snakemake(workdir, "-n", "--config", "evaluate={'judge': 'gpt-9'}")
    assert result.returncode != 0
    assert "config key 'evaluate.judge': 'gpt-9' is not a model of the registry (smollm2)" in result.stdout + result.stderr


def test_missing_dump_is_named(workdir):
    result = snakemake(workdir, "-n", "--config", "dump=nowhere/ptwiki.xml.bz2")
    assert result.returncode != 0
    assert "nowhere/ptwiki.xml.bz2" in result.stdout + result.stderr


def test_bad_question_file_fails_cleanly(workdir):
    (workdir / "vazio.jsonl").write_text("", encoding="utf-8")
    result = snakemake(workdir, "results/questions/vazio.json", "--config", "questions=[vazio.jsonl]")
    assert result.returncode != 0
    assert "vazio.jsonl: no questions in file" in result.stdout + result.stderr
    assert not (workdir / "results/questions/vazio.json").exists()


def test_url_dump_is_downloaded_verified_and_extracted(workdir):
    """`dump` as a URL: the download_dump localrule fetches dump, index and checksums from a (loopback) mirror."""
    import functools
    import hashlib
    import http.server
    import threading

    run_dir = workdir / "mirror/ptwiki/20261101"
    run_dir.mkdir(parents=True)
    sums = []
    for source, name in (
        ("ptwiki-sample-pages-articles-multistream.xml.bz2", "ptwiki-20261101-pages-articles-multistream.xml.bz2"),
        ("ptwiki-sample-pages-articles-multistream-index.txt.bz2",
         "ptwiki-20261101-pages-articles-multistream-index.txt.bz2"),
    ):
        data = (workdir / "resources" / source).read_bytes()
        (run_dir / name).write_bytes(data)
        sums.append(f"{hashlib.sha1(data).hexdigest()}  {name}\n")
    (run_dir / "ptwiki-20261101-sha1sums.txt").write_text("".join(sums))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(workdir / "mirror"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/ptwiki/20261101/ptwiki-20261101-pages-articles-multistream.xml.bz2"
        result = snakemake(workdir, "results/corpus/articles", "--config", f"dump={url}")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "data/dumps/ptwiki-20261101-pages-articles-multistream-index.txt.bz2").exists()
    manifest = json.loads((workdir / "results/corpus/articles/manifest.json").read_text())
    assert manifest["dump"]["format"] == "multistream" and manifest["counts"]["articles"] == 37


def test_cluster_config_plans_sharded_gpu_embedding(workdir):
    """config/atena.yaml: the dump and the multilingual embedder are fetched by localrules; 16 GPU embed jobs."""
    result = snakemake(workdir, "-n", "--configfile", "config/atena.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    plan = result.stdout
    jobs = dry_run_jobs(plan)
    assert len(jobs["embed"]) == 16 and len(jobs["chunk"]) == 16
    assert all(job["resources"]["gpu"] == "1" for job in jobs["embed"])
    assert "download_embedder" in jobs and "download_dump" in jobs
    # the study's three models: fetched on the login node, trained with the resources `lhama plan` sized
    assert sorted(job["wildcards"] for job in jobs["download_model"]) == [
        "model=llama2-13b", "model=llama2-70b", "model=llama2-7b"]
    train = {job["wildcards"]: job["resources"] for job in jobs["train"]}
    small, big = train["model=llama2-7b, adapter=tuned"], train["model=llama2-70b, adapter=tuned"]
    assert small["gpu"] == "1" and small["mpi"] == "False"
    assert (big["gpu"], big["tasks"], big["mpi"]) == ("3", "3", "True") and int(big["runtime"]) >= 240
    # models x variants x (paper, 1,000 held-out and 1,000 seen questions in two parts of 500 each), then merged
    assert len(jobs["answer"]) == 3 * 5 * (1 + 2 + 2) and len(jobs["merge_answers"]) == 3 * 5 * 3
    config = load_config([ROOT / "config/atena.yaml"], ROOT)
    dag = dag_plan(config, question_sets(config.questions), ROOT)
    # every GPU job asks SLURM for the time limit its estimate gives, and the dry run prints the GPU-hour total
    answer_limits = {job["wildcards"]: int(job["resources"]["runtime"]) for job in jobs["answer"]}
    assert answer_limits["model=llama2-70b, variant=rag, eval_set=heldout, part=001, parts=002"] == dag.job(
        "answer", "llama2-70b/rag/heldout/001").runtime_min
    # the 70B judges each answer file in its own job, none near a day
    judge_limits = {job["wildcards"]: int(job["resources"]["runtime"]) for job in jobs["judge"]}
    assert judge_limits["model=llama2-7b, variant=tuned_rag, eval_set=heldout"] == dag.job(
        "judge", "llama2-7b/tuned_rag/heldout").runtime_min < 6 * 60
    # the corpus-sized CPU jobs ask for the time limit and memory lhama.cpu_plan estimates from the corpus
    (extract,) = jobs["extract"]
    assert (int(extract["resources"]["runtime"]), int(extract["resources"]["mem_mb"])) == (
        dag.cpu_job("extract", "extract").runtime_min, dag.cpu_job("extract", "extract").mem_mb)
    chunk_limits = {job["wildcards"]: int(job["resources"]["runtime"]) for job in jobs["chunk"]}
    assert chunk_limits["shard=015"] == dag.cpu_job("chunk", "015").runtime_min
    assert int(jobs["index"][0]["resources"]["mem_mb"]) == dag.cpu_job("index", "index").mem_mb
    assert f"lhama plan: {dag.total_gpu_hours:,.1f} GPU-hours estimated" in result.stderr
    assert len(jobs["train"]) == 3 * 2 and len(jobs["judge"]) == 3 * 5 * 3  # tuned and raft adapters
    assert "smollm2" not in plan  # dropped by `smollm2: null`


def test_a_job_longer_than_the_partition_allows_stops_the_dry_run(workdir):
    result = snakemake(workdir, "-n", "--configfile", "config/atena.yaml", "--config",
                       "cluster={'max_runtime_min': 600}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert ("config key 'cluster.max_runtime_min': train job llama2-70b/raft needs about" in output
            and "more than the partition's 600 minutes" in output), output[-2000:]
    assert not (workdir / "results").exists()


def test_a_large_question_set_is_answered_in_parts_merged_before_scoring(workdir):
    result = snakemake(workdir, "-n", "--config", "generation={'shard_questions': 4}")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = dry_run_jobs(result.stdout)
    parts = {job["wildcards"].removeprefix("model=smollm2, variant=base, ") for job in jobs["answer"]
             if "variant=base," in job["wildcards"]}
    # the paper's 10 questions in 3 parts; the demo caps the held-out and seen sets at 12 questions each
    assert {part for part in parts if part.startswith("eval_set=paper")} == {
        f"eval_set=paper, part={part:03d}, parts=003" for part in range(3)}
    assert sum(part.startswith("eval_set=heldout") for part in parts) == 3
    assert sum(part.startswith("eval_set=seen") for part in parts) == 3
    assert len(jobs["merge_answers"]) == 5 * 3


def test_cluster_config_that_cannot_fit_stops_the_dry_run(workdir):
    override = workdir / "full70b.yaml"
    override.write_text("models:\n  llama2-70b:\n    train: {method: full}\n", encoding="utf-8")
    result = snakemake(workdir, "-n", "--configfile", "config/atena.yaml", str(override))
    assert result.returncode != 0
    assert "config key 'models.llama2-70b.train': full of 69B parameters needs about" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


# ---------------------------------------------------------------------------------------------------- the demo, once


@pytest.fixture(scope="session")
def demo(tmp_path_factory, smollm2_dir, measured) -> Path:
    """The README's demo DAG, run once for the tests below, with tests/demo-lean.yaml on top and the demo model
    from the folder the session already prepared (a local source: linked, not converted again). Every test that
    reads it is in this file and in `make test`'s serial phase (one process), so it runs once."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo") / "workflow")
    lean = yaml.safe_load(LEAN.read_text(encoding="utf-8"))
    lean["models"] = {"smollm2": {"source": str(smollm2_dir), "params": 1.35e8}}
    (workdir / "config" / "lean.yaml").write_text(yaml.safe_dump(lean), encoding="utf-8")
    start = time.monotonic()
    result = snakemake(workdir, *DEMO_ARGS, timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    measured(f"demo DAG end to end (snakemake --cores 2 --configfile tests/demo-lean.yaml): "
             f"{time.monotonic() - start:.0f} s")
    return workdir


def test_demo_end_to_end(demo):
    report = (demo / "results/report.html").read_text(encoding="utf-8")
    assert "ptwiki-sample-pages-articles-multistream.xml.bz2" in report
    paper = json.loads((demo / "results/questions/paper.json").read_text())
    assert paper["coverage"]["answer_in_source"] == 10, paper["coverage"]["rows"]
    split = json.loads((demo / "results/qa/split.json").read_text())
    assert split["test_with_train_article"] == 0 and split["test"] > 0
    heldout = json.loads((demo / "results/qa/heldout_sample.json").read_text())
    heldout_answers = (demo / "results/answers/smollm2/base/heldout.jsonl").read_text().splitlines()
    assert heldout["population"] == split["test"] > heldout["n"] == len(heldout_answers) == 12
    assert f"12 of {split['test']}: stratified by kind" in (demo / "results/report.html").read_text(encoding="utf-8")
    provenance = json.loads((demo / "results/provenance.json").read_text())
    manifest = json.loads((demo / "results/corpus/articles/manifest.json").read_text())
    assert provenance["dump"]["sha1"] == manifest["dump"]["sha1"]
    retrieval = json.loads((demo / "results/rag/retrieval/paper.json").read_text())
    assert retrieval["k"] == 2 and retrieval["recall_at_k"] >= 0.7, retrieval["rows"]
    # fine-tuning: an adapter with its card, a loss curve, and lower held-out perplexity after tuning
    adapter = demo / "results/models/smollm2/tuned"
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= {p.name for p in adapter.iterdir()}
    training = json.loads((demo / "results/train/smollm2/tuned/metrics.json").read_text())
    assert training["global_step"] == training["max_steps"] == 12 and training["eval_loss_curve"]
    assert training["train_rows"] == 12 * 4  # each row of the run's draw once, not the whole split
    raft = json.loads((demo / "results/train/smollm2/raft/metrics.json").read_text())
    assert raft["global_step"] == raft["max_steps"] == 2 and raft["data"]["train"]["path"].endswith("raft/train.jsonl")
    raft_rows = [json.loads(line) for line in (demo / "results/qa/raft/train.jsonl").read_text().splitlines()]
    raft_eval = (demo / "results/qa/raft/test.jsonl").read_text().splitlines()
    # retrieval only for the rows the raft run takes (2 steps x 1) and the 4 it evaluates on
    assert len(raft_rows) == raft["train_rows"] == 2 and len(raft_eval) == 4
    assert all(len(row["passages"]) == 2 for row in raft_rows)
    perplexity = json.loads((demo / "results/train/smollm2/perplexity.json").read_text())
    assert perplexity["tuned"]["ppl"] < perplexity["base"]["ppl"], perplexity
    # answers of every variant, scored, each job recording its own environment
    metrics = {(row["variant"], row["questions"]): row for row in read_tsv(demo / "results/evaluation/metrics.tsv")}
    assert set(metrics) == {(v, s) for v in ("base", "tuned", "rag", "tuned_rag", "raft") for s in SETS}
    assert all(row["copy_rate"] is not None and row["own_words_accuracy"] is not None for row in metrics.values()
               if row["n_with_answers"])
    seen = [json.loads(line) for line in (demo / "results/qa/seen_questions.jsonl").read_text().splitlines()]
    trained_inputs = {json.loads(line)["input"] for line in (demo / "results/qa/train.jsonl").read_text().splitlines()}
    assert 0 < len(seen) <= 10 and not any(question["question"] in trained_inputs for question in seen)
    seen_sample = json.loads((demo / "results/qa/seen_sample.json").read_text())
    train_rows = (demo / "results/qa/train.jsonl").read_text().splitlines()
    taken = [json.loads(train_rows[row]) for row in chosen_rows(len(train_rows), 48, 42)]
    assert seen_sample["trained_rows"] == 48 and seen_sample["train_rows"] == len(train_rows) > 48
    assert {question["source"] for question in seen} <= {row["source_title"] for row in taken if row["kind"] == "infobox"}
    assert f"{len(seen)} of {seen_sample['facts']} infobox facts in the 48 training" in " ".join(report.split())
    # the scored answers carry the retrieval stage's own recall (k=2 here: 8 of the 10 gold articles, Dilma Rousseff
    # and Pedro I are ranked below two other history articles), and non-retrieving variants none
    assert metrics["rag", "paper"]["recall_at_k"] == retrieval["recall_at_k"]
    assert metrics["base", "paper"]["recall_at_k"] is None
    summary = json.loads((demo / "results/answers/smollm2/rag/paper.summary.json").read_text())
    assert summary["environment"]["packages"]["torch"] and summary["retrieval"]["retriever"]["k"] == 2
    assert 'id="answers"' in report and 'id="provenance"' in report and "knowledge injection" in report
    assert "never saw in training (the split keeps each article on one side)" in " ".join(report.split())
    model = json.loads((demo / "results/models/smollm2/base/lhama_model.json").read_text())
    assert len(model["weights_sha256"]["sha256"]) == 64


def test_demo_report_in_a_browser(demo, tmp_path):
    if browser.CHROMIUM is None:
        pytest.skip("chromium is not installed (`make test` installs it with apt where it can)")
    dom, console = browser.load(demo / "results/report.html", tmp_path / "report.png")
    assert console == [] and 'data-ready="true"' in dom


# What a changed config key reruns on a finished run (Snakemake's params trigger fires on what each job reads).
# Everything after the answers (evaluate, its plot, the report and the accounting before it) follows any rerun.
AFTER_ANSWERS = {"evaluate": None, "results_plot": None, "accounting": None, "report": None, "all": None}
SETS = ("paper", "heldout", "seen")


def merged(*variants: str, sets: tuple[str, ...] = SETS) -> set[str]:
    return {f"model=smollm2, variant={variant}, eval_set={name}" for variant in variants for name in sets}


def answers(*variants: str, sets: tuple[str, ...] = SETS) -> dict[str, set[str]]:
    """The answer jobs of these variants (each set one part in the demo) and the merges after them."""
    return {"answer": {f"{job}, part=000, parts=001" for job in merged(*variants, sets=sets)},
            "merge_answers": merged(*variants, sets=sets)}


def union(*job_sets: dict[str, set[str]]) -> dict[str, set[str]]:
    return {rule: set().union(*(jobs.get(rule, set()) for jobs in job_sets)) for jobs in job_sets for rule in jobs}


RERUNS = {
    # the retriever also shapes the RAFT examples, so the raft adapter is retrained
    "rag.retriever": (["rag={'retriever': {'k': 3}}"], {
        "retrieval_eval": {f"eval_set={name}" for name in SETS}, "raft_data": None,
        "train": {"model=smollm2, adapter=raft"}, "loss_plot": {"model=smollm2, adapter=raft"},
        **answers("rag", "tuned_rag", "raft"), "retrieval_plot": None, **AFTER_ANSWERS}),
    "generation": (["generation={'max_new_tokens': 16}"], {
        **answers("base", "tuned", "rag", "tuned_rag", "raft"), **AFTER_ANSWERS}),
    "evaluate": (["evaluate={'resamples': 1000}"], dict(AFTER_ANSWERS)),
    "evaluate.heldout_questions": (["evaluate={'heldout_questions': 10}"], {
        "heldout_questions": None, "retrieval_eval": {"eval_set=heldout"}, "retrieval_plot": None,
        **answers("base", "tuned", "rag", "tuned_rag", "raft", sets=("heldout",)), **AFTER_ANSWERS}),
    # a new output of `all`: scheduled as missing, not as changed params
    "qa.pretraining_text": (["qa={'pretraining_text': True}"], {"pretraining_text": None, "all": None},
                            "Missing output files: results/qa/pretraining.jsonl"),
    "train.args.learning_rate": (["train={'args': {'learning_rate': 1e-4}}"], {
        "train": {"model=smollm2, adapter=tuned", "model=smollm2, adapter=raft"},
        "loss_plot": {"model=smollm2, adapter=tuned", "model=smollm2, adapter=raft"},
        "perplexity": {"model=smollm2"}, **answers("tuned", "tuned_rag", "raft"), **AFTER_ANSWERS}),
    # more steps take more training rows: the seen set is drawn anew from them, so every variant answers it again;
    # the raft adapter keeps its own max_steps (raft.args), so its rows and training stay
    "train.args.max_steps": (["train={'args': {'max_steps': 14}}"], {
        "train": {"model=smollm2, adapter=tuned"}, "loss_plot": {"model=smollm2, adapter=tuned"},
        "perplexity": {"model=smollm2"}, "seen_questions": None, "retrieval_eval": {"eval_set=seen"},
        "retrieval_plot": None, **union(answers("tuned", "tuned_rag", sets=("paper", "heldout")),
                                        answers("base", "tuned", "rag", "tuned_rag", "raft", sets=("seen",))),
        **AFTER_ANSWERS}),
}


@pytest.mark.parametrize("key", list(RERUNS))
def test_a_changed_key_reruns_only_what_reads_it(demo, key):
    overrides, expected, *reason = RERUNS[key]
    result = snakemake(demo, "-n", *DEMO_ARGS, "--config", *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = dry_run_jobs(result.stdout)
    assert set(jobs) == set(expected), sorted(jobs)
    for rule, wildcards in expected.items():
        if wildcards is not None:
            assert {job["wildcards"] for job in jobs[rule]} == wildcards, (rule, jobs[rule])
    assert (reason or ["Params have changed since last execution"])[0] in result.stdout + result.stderr


def test_a_second_run_has_nothing_to_do_and_a_failed_shard_reruns_alone(demo):
    again = snakemake(demo, *DEMO_ARGS)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    # after a failed shard job (its output and everything downstream missing) a rerun recomputes that shard alone
    moved = ["results/rag/shards/001/embeddings.npy", "results/rag/index", "results/rag/retrieval",
             "results/plots/retrieval_recall.png", "results/report.html"]
    aside = demo.parent / "aside"
    for relative in moved:
        (aside / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(demo / relative, aside / relative)
    try:
        plan = dry_run_jobs(snakemake(demo, "-n", *DEMO_ARGS).stdout)
        assert len(plan["embed"]) == 1 and "chunk" not in plan and "extract" not in plan and "index" in plan
    finally:
        for relative in moved:
            os.replace(aside / relative, demo / relative)


@pytest.mark.serial
def test_other_dump_and_questions(workdir, tiny_model_dir):
    """`snakemake --config dump=PATH questions=[A.jsonl]` runs the same DAG on an unseen dump and question set (with
    a random-weight model from a local folder: the DAG, not the answers, is under test)."""
    body = ("'''{title}''' é uma cidade do [[Brasil]] fundada em [[1711]].<ref>fonte</ref> "
            "A cidade tem um porto importante e uma longa história de comércio com outras regiões do país.\n"
            "== História ==\nA vila cresceu com o ouro. Depois virou capital da província por muitos anos.\n")
    pages = [Page(10 + n, 0, f"Cidade {n}", 100 + n, "{{Info/Município do Brasil|fundação = {{dtlink|8|12|1711}}}}\n"
                  + body.format(title=f"Cidade {n}")) for n in range(12)]
    pages.append(Page(99, 0, "Vila", 999, "#REDIRECIONAMENTO [[Cidade 1]]", redirect="Cidade 1"))
    write_xml(SiteInfo(), pages, workdir / "outro.xml")
    (workdir / "minhas.jsonl").write_text(json.dumps({
        "id": "m1", "question": "Quando foi fundada a Cidade 3?", "answers": ["8 de dezembro de 1711"],
        "source": "Cidade 3"}) + "\n", encoding="utf-8")
    # no tuned variant here: the demo run covers training; this one the same DAG on other data
    (workdir / "other.yaml").write_text(json.dumps({
        "dump": "outro.xml", "questions": ["minhas.jsonl"], "rag": {"shards": 1}, "variants": ["base", "rag"],
        "models": {"smollm2": None, "tiny": {"source": str(tiny_model_dir), "params": 3.3e6}},
        "generation": {"max_new_tokens": 4}, "evaluate": {"seen_facts": 0}}), encoding="utf-8")
    result = snakemake(workdir, "--configfile", "other.yaml", timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    scored = [row for row in read_tsv(workdir / "results/evaluation/metrics.tsv") if row["questions"] == "minhas"]
    assert sorted(row["variant"] for row in scored) == ["base", "rag"]
    assert not (workdir / "results/models/tiny/tuned").exists()
    assert all(row["n"] == 1 and row["model"] == "tiny" for row in scored)
    manifest = json.loads((workdir / "results/corpus/articles/manifest.json").read_text())
    assert manifest["counts"]["articles"] == 12 and manifest["counts"]["skipped"]["redirect"] == 1
    coverage = json.loads((workdir / "results/questions/minhas.json").read_text())["coverage"]
    assert coverage["answer_in_source"] == 1
    report = (workdir / "results/report.html").read_text()
    assert "outro.xml" in report and "Quando foi fundada a Cidade 3?" in report
