"""The Snakemake workflow as a user runs it: dry run, the embedded demo end to end, another dump, bad config."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import browser
import lhama.workflow as lw
from lhama.dump import Page, SiteInfo, write_xml
from lhama.report import read_tsv

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


# --config overrides for a short run of the whole DAG (tests other than the demo's)
QUICK = ("train={'args': {'max_steps': 4, 'save_steps': 2, 'eval_steps': 2, 'logging_steps': 1}}",
         "generation={'max_new_tokens': 8}")


@pytest.fixture
def workdir(tmp_path):
    """A copy of the workflow (not of results/) so tests never touch the checkout's outputs."""
    for name in ("Snakefile", "workflow", "config", "envs", "resources"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([SNAKEMAKE, "--cores", "2", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_dry_run_plans_every_rule(workdir):
    result = snakemake(workdir, "-n")
    assert result.returncode == 0, result.stderr
    for rule in ("extract", "qa", "split", "corpus_stats", "check_questions", "provenance", "report"):
        assert f"rule {rule}:" in result.stdout or f"localrule {rule}:" in result.stdout


@pytest.mark.parametrize(("override", "expected"), [
    ("extract={'bogus': 1}", "config key 'extract.bogus': unknown key"),
    ("speling=1", "config key 'speling': unknown key"),
    ("extract={'workers': 0}", "config key 'extract.workers'"),
    ("split={'by': 'title'}", "config key 'split.by'"),
])
def test_bad_config_key_is_named(workdir, override, expected):
    result = snakemake(workdir, "-n", "--config", override)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_nested_command_line_values_take_the_schema_types(workdir):
    """Snakemake reads the inside of `--config generation={max_new_tokens: 8}` as strings; the workflow types them."""
    result = snakemake(workdir, "-n", "--config", *QUICK)
    assert result.returncode == 0, result.stderr[-3000:]
    result = snakemake(workdir, "-n", "--config", "generation={'max_new_tokens': 'eight'}")
    assert result.returncode != 0
    assert "--config: config key 'generation.max_new_tokens': 'eight' is not of type 'integer'" in result.stdout + result.stderr


def test_type_command_line_values_only_where_no_string_is_expected():
    schema = {"type": "object", "properties": {
        "generation": {"type": "object", "properties": {"max_new_tokens": {"type": "integer"},
                                                        "do_sample": {"type": "boolean"}}},
        "dump": {"type": "string"},
        "questions": {"type": "array", "items": {"type": "string"}},
        "train": {"type": "object", "properties": {"args": {"type": "object"}}}}}
    overrides = {"generation": {"max_new_tokens": "8", "do_sample": "true"}, "dump": "2024",
                 "questions": ["1.jsonl"], "train": {"args": {"max_steps": "4", "optim": "adafactor"}}}
    config = {"generation": {"max_new_tokens": "8", "do_sample": "true", "top_p": 0.9}, "dump": "2024",
              "questions": ["1.jsonl"], "train": {"args": {"max_steps": "4", "optim": "adafactor", "seed": "7"}}}
    retyped = lw.type_command_line_values(config, overrides, schema)
    assert config == {"generation": {"max_new_tokens": 8, "do_sample": True, "top_p": 0.9}, "dump": "2024",
                      "questions": ["1.jsonl"], "train": {"args": {"max_steps": 4, "optim": "adafactor",
                                                                   "seed": "7"}}}
    assert retyped == ["generation.max_new_tokens", "generation.do_sample", "train.args.max_steps"]


def test_missing_dump_is_named(workdir):
    result = snakemake(workdir, "-n", "--config", "dump=nowhere/ptwiki.xml.bz2")
    assert result.returncode != 0
    assert "nowhere/ptwiki.xml.bz2" in result.stdout + result.stderr


def test_other_dump_and_questions(workdir):
    """`snakemake --config dump=PATH questions=[A.jsonl]` runs the same DAG on an unseen dump and question set."""
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
    # the whole DAG, with a shorter training and shorter answers than the demo's (same rules, smaller numbers)
    result = snakemake(workdir, "--config", "dump=outro.xml", "questions=[minhas.jsonl]", *QUICK, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    scored = [row for row in read_tsv(workdir / "results/evaluation/metrics.tsv") if row["questions"] == "minhas"]
    assert sorted(row["variant"] for row in scored) == ["base", "rag", "tuned", "tuned_rag"]
    assert all(row["n"] == 1 for row in scored)
    manifest = json.loads((workdir / "results/corpus/articles/manifest.json").read_text())
    assert manifest["counts"]["articles"] == 12 and manifest["counts"]["skipped"]["redirect"] == 1
    coverage = json.loads((workdir / "results/questions/minhas.json").read_text())["coverage"]
    assert coverage["answer_in_source"] == 1
    report = (workdir / "results/report.html").read_text()
    assert "outro.xml" in report and "Quando foi fundada a Cidade 3?" in report


def test_bad_question_file_fails_cleanly(workdir):
    (workdir / "vazio.jsonl").write_text("", encoding="utf-8")
    result = snakemake(workdir, "--config", "questions=[vazio.jsonl]")
    assert result.returncode != 0
    assert "vazio.jsonl: no questions in file" in result.stdout + result.stderr
    assert not (workdir / "results/questions/vazio.json").exists()


@pytest.mark.slow
def test_demo_end_to_end(workdir, measured):
    """The README's demo: the embedded sample dump and the paper's questions, ending with the report."""
    start = time.monotonic()
    result = snakemake(workdir, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    measured(f"demo DAG end to end (snakemake --cores 2): {time.monotonic() - start:.0f} s")
    report = (workdir / "results/report.html").read_text(encoding="utf-8")
    assert "ptwiki-sample-pages-articles-multistream.xml.bz2" in report
    paper = json.loads((workdir / "results/questions/paper.json").read_text())
    assert paper["coverage"]["answer_in_source"] == 10, paper["coverage"]["rows"]
    split = json.loads((workdir / "results/qa/split.json").read_text())
    assert split["test_with_train_article"] == 0 and split["test"] > 0
    provenance = json.loads((workdir / "results/provenance.json").read_text())
    manifest = json.loads((workdir / "results/corpus/articles/manifest.json").read_text())
    assert provenance["dump"]["sha1"] == manifest["dump"]["sha1"]
    retrieval = json.loads((workdir / "results/rag/retrieval/paper.json").read_text())
    assert retrieval["k"] == 5 and retrieval["recall_at_k"] >= 0.9, retrieval["rows"]
    # fine-tuning: an adapter with its card, a loss curve, and lower held-out perplexity after tuning
    adapter = workdir / "results/models/smollm2/tuned"
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= {p.name for p in adapter.iterdir()}
    training = json.loads((workdir / "results/train/smollm2/metrics.json").read_text())
    assert training["global_step"] == training["max_steps"] == 60 and training["eval_loss_curve"]
    perplexity = json.loads((workdir / "results/train/smollm2/perplexity.json").read_text())
    assert perplexity["tuned"]["ppl"] < perplexity["base"]["ppl"], perplexity
    # answers of every variant, scored: with the passages the model answers more of the paper's questions
    metrics = {(row["variant"], row["questions"]): row for row in read_tsv(workdir / "results/evaluation/metrics.tsv")}
    assert set(metrics) == {(v, s) for v in ("base", "tuned", "rag", "tuned_rag") for s in ("paper", "heldout")}
    assert metrics["rag", "paper"]["accuracy"] > metrics["base", "paper"]["accuracy"], metrics
    assert metrics["rag", "paper"]["recall_at_k"] >= 0.9 and metrics["base", "paper"]["recall_at_k"] is None
    assert "<b>rag</b> answered" in report and 'id="answers"' in report
    dom, console = browser.load(workdir / "results/report.html", workdir / "report.png")
    assert console == [] and 'data-ready="true"' in dom
    again = snakemake(workdir)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    # after a failed shard job (its output and everything downstream missing) a rerun recomputes that shard alone
    (workdir / "results/rag/shards/001/embeddings.npy").unlink()
    shutil.rmtree(workdir / "results/rag/index")
    for downstream in ("results/rag/retrieval", "results/plots/retrieval_recall.png", "results/report.html"):
        path = workdir / downstream
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    plan = snakemake(workdir, "-n").stdout
    assert plan.count("rule embed:") == 1 and "rule chunk:" not in plan and "rule extract:" not in plan
    assert "rule index:" in plan


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
    assert plan.count("rule embed:") == 16 and plan.count("rule chunk:") == 16
    jobs = dry_run_jobs(plan)
    assert all(job["resources"]["gpu"] == "1" for job in jobs["embed"])
    assert "rule download_embedder:" in plan and "rule download_dump:" in plan
    # the study's three models: fetched on the login node, trained with the resources `lhama plan` sized
    assert sorted(job["wildcards"] for job in jobs["download_model"]) == [
        "model=llama2-13b", "model=llama2-70b", "model=llama2-7b"]
    train = {job["wildcards"]: job["resources"] for job in jobs["train"]}
    assert train["model=llama2-7b"]["gpu"] == "1" and train["model=llama2-7b"]["mpi"] == "False"
    assert (train["model=llama2-70b"]["gpu"], train["model=llama2-70b"]["tasks"],
            train["model=llama2-70b"]["mpi"]) == ("3", "3", "True")
    assert int(train["model=llama2-70b"]["runtime"]) >= 240
    assert len(jobs["answer"]) == 3 * 4 * 2  # models x variants x (paper, heldout)
    assert "smollm2" not in plan  # dropped by `smollm2: null`


def test_cluster_config_that_cannot_fit_stops_the_dry_run(workdir):
    override = workdir / "full70b.yaml"
    override.write_text("models:\n  llama2-70b:\n    train: {method: full}\n", encoding="utf-8")
    result = snakemake(workdir, "-n", "--configfile", "config/atena.yaml", str(override))
    assert result.returncode != 0
    assert "config key 'models.llama2-70b.train': full of 69B parameters needs about" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


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
