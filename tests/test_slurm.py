"""lhama on SLURM: sacct parsing (always), the profiles (always), and the workflow on a real single-node cluster.

The cluster tests bring up slurm/local/cluster.sh (munge, MariaDB, slurmdbd, slurmctld, slurmd, two fake GPUs) and
are skipped, with the reason, when this is not root on an apt machine; where it is, a cluster that does not come
up fails them. Every snakemake call is under a timeout (SIGINT first: the slurm plugin then cancels its jobs;
SIGTERM does not stop it).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lhama import accounting as acc
from lhama.files import read_tsv, tsv_note

# the tests that use the local cluster run in `make test`'s serial phase, one at a time (tests/conftest.py)
ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
CLUSTER_SH = ROOT / "slurm/local/cluster.sh"
TEST_PROFILE = ROOT / "slurm/test"
ACCOUNT = "lhama"

# ------------------------------------------------------------------------------------------ captured sacct text
# sacct --parsable2 --format=JobID,JobName,Comment,WorkDir,State,Elapsed,ElapsedRaw,AllocTRES,MaxRSS,Start,End
SACCT = """\
JobID|JobName|Comment|WorkDir|State|Elapsed|ElapsedRaw|AllocTRES|MaxRSS|Start|End
41|lhama_7f3e|rule_extract|/work/run|COMPLETED|00:01:05|65|billing=2,cpu=2,mem=4000M,node=1||2026-11-27T03:07:10|2026-11-27T03:08:15
41.batch|batch|||COMPLETED|00:01:05|65|cpu=2,mem=4000M,node=1|219712K|2026-11-27T03:07:10|2026-11-27T03:08:15
41.extern|extern|||COMPLETED|00:01:05|65|billing=2,cpu=2,mem=4000M,node=1|1024K|2026-11-27T03:07:10|2026-11-27T03:08:15
42|lhama_7f3e|rule_embed_wildcards_001|/work/run|COMPLETED|01:00:00|3600|billing=8,cpu=8,gres/gpu:a100=1,gres/gpu=1,mem=32G,node=1||2026-11-27T03:08:20|2026-11-27T04:08:20
42.batch|batch|||COMPLETED|01:00:00|3600|cpu=8,gres/gpu:a100=1,gres/gpu=1,mem=32G,node=1|1.50G|2026-11-27T03:08:20|2026-11-27T04:08:20
42.0|python3.11|||COMPLETED|00:59:58|3598|cpu=8,gres/gpu=1,mem=32G,node=1|20.25G|2026-11-27T03:08:21|2026-11-27T04:08:19
43|lhama_7f3e|rule_train_wildcards_llama2-70b|/work/run|TIMEOUT|1-02:03:04||billing=24,cpu=24,gres/gpu=3,mem=480000M,node=1||2026-11-27T04:10:00|2026-11-28T06:13:04
43.batch|batch|||CANCELLED|1-02:03:05||cpu=24,gres/gpu=3,mem=480000M,node=1|512M|2026-11-27T04:10:00|2026-11-28T06:13:05
44|lhama_7f3e|rule_answer_wildcards_llama2-7b_rag_paper|/elsewhere|COMPLETED|00:00:10|10|cpu=1,mem=2000M,node=1||2026-11-27T03:07:10|2026-11-27T03:07:20
45|other_job||/work/run|COMPLETED|00:00:10|10|cpu=1,mem=2000M,node=1||2026-11-27T03:07:10|2026-11-27T03:07:20
46|lhama_7f3e||/work/run|CANCELLED by 0|00:00:30|30|cpu=1,mem=1T,node=1||2026-11-27T03:07:10|2026-11-27T03:07:40
46.batch|batch|||CANCELLED|00:00:30|30|cpu=1,mem=1T,node=1|4096|2026-11-27T03:07:10|2026-11-27T03:07:40
"""

SNAKEMAKE_LOG = """\
Using profile slurm/test for setting default command line arguments.
SLURM run ID: lhama_7f3e
Job 3 has been submitted with SLURM jobid 46 (log: /work/run/logs/slurm/rule_chunk/000/46.log).
Job 4 has been submitted with SLURM jobid 47 (log: /work/run/logs/slurm/rule_index/47.log).
"""


@pytest.mark.parametrize(("text", "seconds"), [
    ("1-02:03:04", 93784), ("00:01:05", 65), ("12:30", 750), ("05:07.250", 307), ("", 0), ("Unknown", 0),
    ("10-00:00:00", 864000),
])
def test_parse_elapsed(text, seconds):
    assert acc.parse_elapsed(text) == seconds


@pytest.mark.parametrize(("text", "mb"), [
    ("219712K", 214.5625), ("1.50G", 1536.0), ("512M", 512.0), ("1T", 1024.0 ** 2), ("4096", 4096 / 1024 ** 2),
    ("0", 0.0), ("", None),
])
def test_parse_size_mb(text, mb):
    assert acc.parse_size_mb(text) == pytest.approx(mb) if mb is not None else acc.parse_size_mb(text) is None


def test_tres_counts_typed_gpus_are_not_counted_twice():
    assert acc.tres_counts("billing=8,cpu=8,gres/gpu:a100=1,gres/gpu=1,mem=32G,node=1") == (8, 1, 32768.0)
    assert acc.tres_counts("cpu=2,gres/gpu:fake=2,mem=4000M,node=1") == (2, 2, 4000.0)
    assert acc.tres_counts("") == (0, 0, 0.0)


def test_comment_and_log_path_name_the_rule():
    assert acc.parse_comment("rule_embed_wildcards_001") == ("embed", "001")
    assert acc.parse_comment("rule_retrieval_eval_wildcards_heldout") == ("retrieval_eval", "heldout")
    assert acc.parse_comment("rule_extract") == ("extract", "")
    assert acc.parse_comment("my own comment") is None
    assert acc.parse_log_path("/w/logs/slurm/rule_answer/smollm2_rag_paper/12.log") == ("answer", "smollm2_rag_paper")
    assert acc.parse_log_path("logs/slurm/rule_index/47.log") == ("index", "")
    run_ids, jobs = acc.parse_snakemake_logs([SNAKEMAKE_LOG])
    assert run_ids == ["lhama_7f3e"] and jobs == {"46": ("chunk", "000"), "47": ("index", "")}


def test_parse_sacct_rows():
    _, log_jobs = acc.parse_snakemake_logs([SNAKEMAKE_LOG])
    rows = {row.jobid: row for row in acc.parse_sacct(SACCT, workdir="/work/run", log_jobs=log_jobs)}
    # 44 ran elsewhere, 45 has no rule; 46 has no comment but the snakemake log names it
    assert list(rows) == ["41", "42", "43", "46"]
    extract, embed, train, chunk = rows["41"], rows["42"], rows["43"], rows["46"]
    assert (extract.rule, extract.wildcards, extract.state, extract.elapsed_s) == ("extract", "", "COMPLETED", 65)
    assert (extract.cpus, extract.gpus, extract.mem_mb, extract.max_rss_mb) == (2, 0, 4000.0, 214.6)
    assert extract.cpu_hours == pytest.approx(2 * 65 / 3600, abs=1e-6) and extract.gpu_hours == 0
    assert (embed.rule, embed.wildcards, embed.gpus, embed.max_rss_mb) == ("embed", "001", 1, 20736.0)
    assert embed.gpu_hours == pytest.approx(1.0) and embed.cpu_hours == pytest.approx(8.0)
    # no ElapsedRaw: Elapsed 1-02:03:04 is parsed
    assert (train.rule, train.wildcards, train.state, train.elapsed_s) == ("train", "llama2-70b", "TIMEOUT", 93784)
    assert train.gpu_hours == pytest.approx(3 * 93784 / 3600, abs=1e-5) and train.max_rss_mb == 512.0
    assert (chunk.rule, chunk.wildcards, chunk.state, chunk.mem_mb) == ("chunk", "000", "CANCELLED", 1024.0 ** 2)
    assert len(acc.parse_sacct(SACCT, log_jobs=log_jobs)) == 5  # without a workdir filter 44 counts too
    assert [row.jobid for row in acc.parse_sacct(SACCT, jobname_prefix="lhama_")] == ["41", "42", "43", "44"]


def test_summary_and_tables(tmp_path):
    _, log_jobs = acc.parse_snakemake_logs([SNAKEMAKE_LOG])
    rows = acc.parse_sacct(SACCT, workdir="/work/run", log_jobs=log_jobs)
    summary = {entry["rule"]: entry for entry in acc.summarize(rows)}
    assert summary["train"]["failed"] == 1 and summary["chunk"]["failed"] == 1 and summary["embed"]["failed"] == 0
    assert summary["embed"]["gpu_hours"] == pytest.approx(1.0) and summary["train"]["jobs"] == 1
    acc.write_tables(rows, tmp_path / "accounting.tsv", tmp_path / "summary.tsv")
    table, note = read_tsv(tmp_path / "accounting.tsv", typed=False), tsv_note(tmp_path / "accounting.tsv")
    assert note is None and [row["rule"] for row in table] == ["extract", "embed", "train", "chunk"]
    assert table[0]["max_rss_mb"] == "214.6" and list(table[0]) == list(acc.COLUMNS)
    acc.write_tables([], tmp_path / "local.tsv", tmp_path / "local_summary.tsv", note=acc.LOCAL_NOTE)
    assert (tmp_path / "local.tsv").read_text().splitlines() == ["\t".join(acc.COLUMNS), "# " + acc.LOCAL_NOTE]
    assert (read_tsv(tmp_path / "local_summary.tsv"), tsv_note(tmp_path / "local_summary.tsv")) == ([], acc.LOCAL_NOTE)


def test_local_run_writes_the_note(tmp_path):
    (tmp_path / ".snakemake/log").mkdir(parents=True)
    (tmp_path / ".snakemake/log/2026-11-27T030555.snakemake.log").write_text("Building DAG of jobs...\n")
    note = acc.write_accounting(tmp_path, tmp_path / "a.tsv", tmp_path / "s.tsv")
    assert note.startswith(acc.LOCAL_NOTE)
    assert (read_tsv(tmp_path / "a.tsv"), tsv_note(tmp_path / "a.tsv")) == ([], note)


def test_sacct_command_names_the_runs():
    command = acc.sacct_command(["lhama_a", "lhama_b"], "2026-11-20T00:00:00", user="alice")
    assert command[:2] == ["sacct", "--parsable2"] and "--name" in command and "lhama_a,lhama_b" in command
    assert "--format=JobID,JobName,Comment,WorkDir,State,Elapsed,ElapsedRaw,AllocTRES,MaxRSS,Start,End" in command


# -------------------------------------------------------------------------------------------------- profiles
def _flatten(mapping, prefix=()):
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flatten(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def test_test_profile_differs_only_in_partition_status_wait_and_gpu_type():
    main = dict(_flatten(yaml.safe_load((ROOT / "slurm/config.yaml").read_text())))
    test = dict(_flatten(yaml.safe_load((TEST_PROFILE / "config.yaml").read_text())))
    differing = {key for key in main.keys() | test.keys() if main.get(key) != test.get(key)}
    allowed = {("default-resources", "slurm_partition"), ("slurm-init-seconds-before-status-checks",)}
    gpu_type = {key for key in differing if key[0] == "set-resources" and key[-1] == "gpu_model"}
    assert differing - gpu_type == allowed
    assert gpu_type and all(test[key] == "fake" for key in gpu_type) and not any(key in main for key in gpu_type)
    assert main[("executor",)] == "slurm" and main[("slurm-requeue",)] is True
    assert "SBATCH_PARTITION" in main[("default-resources", "slurm_partition")]
    assert "SBATCH_ACCOUNT" in main[("default-resources", "slurm_account")]


@pytest.mark.parametrize("configfile", ["config/atena.yaml", "config/cluster-template.yaml"])
def test_profile_dry_run_plans_on_the_cluster_config(tmp_path, configfile):
    """`snakemake -n --profile slurm --configfile <cluster config>` plans without sbatch/sacct being called."""
    work = _copy_workflow(tmp_path / "w")
    shutil.copytree(ROOT / "slurm", work / "slurm")
    result = _snakemake(work, "-n", "--profile", "slurm", "--configfile", configfile, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    plan = result.stdout + result.stderr
    assert plan.count("rule embed:") == 16 and "rule report:" in plan


# ---------------------------------------------------------------------------------------------- the real cluster
def _copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "config", "envs", "resources"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, dest / name)
    return dest


def _env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", SBATCH_ACCOUNT=ACCOUNT)


def _interruptible() -> None:
    """In the child before exec: SIGINT back to its default. A test run started in the background of a
    non-interactive shell (as CI may be) inherits SIGINT ignored, and snakemake would never see our Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _snakemake(workdir: Path, *args: str, timeout: int = 900, background: bool = False):
    """snakemake in `workdir`; on timeout SIGINT (the plugin cancels its jobs), then SIGKILL, then fail.
    Output goes to files (a pipe nobody reads would block a background run)."""
    command = [SNAKEMAKE, *args] if "--profile" in args else [SNAKEMAKE, "--cores", "2", *args]
    stamp = f"{time.time_ns()}"
    out = open(workdir.parent / f"{workdir.name}.{stamp}.out", "w+", encoding="utf-8")
    err = open(workdir.parent / f"{workdir.name}.{stamp}.err", "w+", encoding="utf-8")
    process = subprocess.Popen(command, cwd=workdir, env=_env(), stdout=out, stderr=err, text=True,
                               preexec_fn=_interruptible)
    process.files = (out, err)
    if background:
        return process
    return _finish(process, timeout)


def _read(process) -> tuple[str, str]:
    texts = []
    for handle in process.files:
        handle.flush()
        handle.seek(0)
        texts.append(handle.read())
    return texts[0], texts[1]


def _finish(process: subprocess.Popen, timeout: int) -> subprocess.CompletedProcess:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out, err = _read(process)
        pytest.fail(f"snakemake did not finish in {timeout} s (interrupted):\n{out[-3000:]}\n{err[-3000:]}")
    out, err = _read(process)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _skip_reason() -> str | None:
    if sys.platform != "linux":
        return "the local SLURM cluster needs Linux"
    if os.geteuid() != 0:
        return "the local SLURM cluster needs root (slurm/local/cluster.sh starts munged, slurmctld, slurmd as root)"
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        return "no apt-get to install SLURM and no slurmctld installed"
    return None


_CLUSTER_STATE: dict = {}


@pytest.fixture(scope="module")
def cluster(measured):
    """slurm/local/cluster.sh up (cold: installs and initialises; warm: a no-op); skips when it cannot start."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if "error" in _CLUSTER_STATE:
        pytest.fail(_CLUSTER_STATE["error"])
    if "up_s" not in _CLUSTER_STATE:
        # where the machine allows it (root, apt), a cluster that does not come up is a failure, not a skip
        start = time.monotonic()
        try:
            result = subprocess.run([str(CLUSTER_SH), "up"], capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired as timeout:
            said = timeout.stderr.decode(errors="replace") if isinstance(timeout.stderr, bytes) else timeout.stderr
            _CLUSTER_STATE["error"] = f"slurm/local/cluster.sh up did not finish in 900 s: {(said or '')[-1500:]}"
            pytest.fail(_CLUSTER_STATE["error"])
        if result.returncode != 0:
            _CLUSTER_STATE["error"] = f"the local SLURM cluster did not start: {result.stderr.strip()[-1500:]}"
            pytest.fail(_CLUSTER_STATE["error"])
        _CLUSTER_STATE["up_s"] = time.monotonic() - start
        measured(f"local SLURM cluster up: {_CLUSTER_STATE['up_s']:.1f} s ({result.stderr.strip().splitlines()[-1]})")
    return _CLUSTER_STATE


# sacct reads jobs since this test session began: the cluster's accounting database outlives a run, and a rerun of
# the suite on the same machine reuses the same temporary paths (pytest-1/...), so older jobs would match them.
SESSION_START = time.strftime("%Y-%m-%dT%H:%M:%S")


def sacct_rows(workdir: Path) -> list[dict]:
    """Every job and step submitted from `workdir` in this test session (sacct, all states)."""
    fields = "JobID,JobName,Comment,WorkDir,State,AllocTRES,NTasks"
    result = subprocess.run(["sacct", "--parsable2", "--noheader", f"--format={fields}", "--starttime", SESSION_START,
                             "--endtime", "now"], capture_output=True, text=True, timeout=60, check=True)
    rows, workdirs = [], {}
    for line in result.stdout.splitlines():
        row = dict(zip(fields.split(","), line.split("|")))
        main = row["JobID"].split(".")[0]
        if "." not in row["JobID"]:
            workdirs[main] = row["WorkDir"]
        if workdirs.get(main) and Path(workdirs[main]).resolve() == workdir.resolve():
            rows.append(row)
    return rows


def _ran_rules(output: str) -> tuple[set[str], set[str]]:
    """(rules run as SLURM jobs, localrules) from snakemake's job headers."""
    remote = set(re.findall(r"^rule (\w+):", output, re.MULTILINE))
    local = set(re.findall(r"^localrule (\w+):", output, re.MULTILINE))
    return remote, local


def _report_sections(path: Path) -> list[str]:
    html = path.read_text(encoding="utf-8")
    return [re.sub(r"<[^>]+>|\s+", " ", title).strip() for title in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]


TEMPLATE_SECTIONS = re.findall(r"<h2>(.*?)</h2>", (ROOT / "src/lhama/templates/report.html.j2").read_text())


def _lean_config(work: Path, model_dir: Path, **extra) -> list[str]:
    """The demo DAG with a random-weight model and short training and decoding (the DAG and SLURM are under test,
    not the answers), the embed shards on a fake GPU; written to test.yaml, returned as --configfile arguments."""
    config = {"models": {"smollm2": None, "tiny": {"source": str(model_dir), "params": 3.3e6}},
              "variants": ["base", "tuned_rag"],
              "train": {"args": {"max_steps": 4, "save_steps": 2, "eval_steps": 2, "logging_steps": 1}},
              "generation": {"max_new_tokens": 4}, "resources": {"embed": {"gpu": 1}},
              "evaluate": {"seen_facts": 0}, **extra}
    (work / "test.yaml").write_text(yaml.safe_dump(config))
    return ["--configfile", "test.yaml"]


@pytest.fixture(scope="module")
def slurm_demo(cluster, tiny_model_dir, tmp_path_factory, measured):
    """The demo DAG (lean) through the test profile: every non-local rule a SLURM job, embed on a fake GPU."""
    work = _copy_workflow(tmp_path_factory.mktemp("slurm-demo") / "slurm")
    args = [*_lean_config(work, tiny_model_dir), "--profile", str(TEST_PROFILE)]
    start = time.monotonic()
    result = _snakemake(work, *args, timeout=1800)
    seconds = time.monotonic() - start
    assert result.returncode == 0, f"SLURM run failed:\n{result.stdout[-3000:]}\n{result.stderr[-4000:]}"
    jobs = len(re.findall(r"has been submitted with SLURM jobid", result.stdout + result.stderr))
    measured(f"lean demo DAG through --profile slurm/test: {seconds:.0f} s, {jobs} SLURM jobs")
    return {"workdir": work, "result": result, "args": args}


@pytest.mark.slow
def test_cluster_up_is_idempotent(cluster, measured):
    start = time.monotonic()
    result = subprocess.run([str(CLUSTER_SH), "up"], capture_output=True, text=True, timeout=120)
    warm = time.monotonic() - start
    assert result.returncode == 0 and "already up" in result.stderr, result.stderr
    status = subprocess.run([str(CLUSTER_SH), "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "cluster: up" in status.stdout
    measured(f"local SLURM cluster up again (already up): {warm:.1f} s")


@pytest.mark.slow
def test_demo_runs_as_slurm_jobs(slurm_demo):
    work = slurm_demo["workdir"]
    output = slurm_demo["result"].stdout + slurm_demo["result"].stderr
    remote, localrules = _ran_rules(output)
    assert {"extract", "embed", "index", "train", "answer"} <= remote and {"report", "accounting"} <= localrules
    rows = sacct_rows(work)
    jobs = [row for row in rows if "." not in row["JobID"]]
    by_rule: dict[str, list[dict]] = {}
    for row in jobs:
        parsed = acc.parse_comment(row["Comment"])
        assert parsed and row["JobName"].startswith("lhama_"), row
        by_rule.setdefault(parsed[0], []).append(row)
    assert set(by_rule) == remote, (set(by_rule), remote)
    assert all(row["State"] == "COMPLETED" for row in jobs), [(r["JobID"], r["Comment"], r["State"]) for r in jobs]
    for row in by_rule["embed"]:
        assert acc.tres_counts(row["AllocTRES"])[1] == 1, row  # gres/gpu=1 (a `fake` GPU)
    assert all(acc.tres_counts(row["AllocTRES"])[1] == 0 for rule in remote - {"embed"} for row in by_rule[rule])
    # the whole report, as a local run writes it
    assert _report_sections(work / "results/report.html") == TEMPLATE_SECTIONS
    # accounting: one row per SLURM job, GPU-hours only for embed
    table, note = read_tsv(work / "results/accounting.tsv"), tsv_note(work / "results/accounting.tsv")
    assert note is None and {str(row["jobid"]) for row in table} == {row["JobID"] for row in jobs}
    summary = {row["rule"]: row for row in read_tsv(work / "results/accounting_summary.tsv")}
    assert set(summary) == remote and float(summary["embed"]["gpu_hours"]) > 0


@pytest.mark.slow
def test_second_run_has_nothing_to_do(slurm_demo):
    work, args = slurm_demo["workdir"], slurm_demo["args"]
    before = len(sacct_rows(work))
    result = _snakemake(work, "-n", *args, timeout=300)
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr, result.stdout[-2000:]
    again = _snakemake(work, *args, timeout=300)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert len(sacct_rows(work)) == before  # nothing submitted


@pytest.mark.slow
def test_failing_job_names_its_slurm_log(slurm_demo, tmp_path, measured):
    """A broken question file: check_questions fails on the cluster; snakemake names the job's SLURM log and exits
    non-zero (after the profile's one retry), without hanging."""
    work = tmp_path / "fail"
    shutil.copytree(slurm_demo["workdir"], work, symlinks=True)
    (work / "vazio.jsonl").write_text("", encoding="utf-8")
    start = time.monotonic()
    result = _snakemake(work, "results/questions/vazio.json", "--config", "questions=[vazio.jsonl]",
                        *slurm_demo["args"], timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    logs = re.findall(r"(\S*logs/slurm/rule_check_questions/vazio/\d+\.log)", output)
    assert logs, output[-3000:]
    assert any(Path(log if Path(log).is_absolute() else work / log).exists() for log in logs)
    assert "vazio.jsonl: no questions in file" in (work / "logs/check_questions/vazio.log").read_text()
    failed = [row for row in sacct_rows(work) if "." not in row["JobID"] and "check_questions" in row["Comment"]]
    assert len(failed) == 2 and all(row["State"] == "FAILED" for row in failed), failed  # the retry failed too
    assert not (work / "results/questions/vazio.json").exists()
    measured(f"failing SLURM job reported in {time.monotonic() - start:.0f} s")


# ----------------------------------------------------------------------- training on SLURM (contract of rule train)
MODEL = "tiny"


def _train_workdir(slurm_demo: dict, tmp_path: Path, model_dir: Path, **train) -> tuple[Path, list[str]]:
    """A copy of the finished lean demo with other training settings: only the train job reruns (its upstream jobs
    are done), and it finds the demo's checkpoints of other settings, which it must delete, not resume."""
    work = tmp_path / "train"
    shutil.copytree(slurm_demo["workdir"], work, symlinks=True)
    assert list((work / f"results/train/{MODEL}/tuned/checkpoints").glob("checkpoint-*"))
    args = _lean_config(work, model_dir, variants=["base", "tuned"], train=train)
    return work, [*args, "--profile", str(TEST_PROFILE)]


def _train_target(model: str = MODEL) -> str:
    return f"results/train/{model}/tuned/metrics.json"


def _checkpoints(work: Path, model: str = MODEL) -> list[int]:
    """Steps of the complete checkpoints (a SIGTERM'd job is still writing its last one when sacct says TIMEOUT)."""
    from lhama.train.checkpoints import checkpoint_is_complete

    folder = work / f"results/train/{model}/tuned/checkpoints"
    return sorted(int(path.name.split("-")[1]) for path in folder.glob("checkpoint-*")
                  if checkpoint_is_complete(path)) if folder.exists() else []


def _stop(process: subprocess.Popen, work: Path) -> None:
    """A failed test's background snakemake stopped and its jobs cancelled, so that they do not hold the one node
    while the next test's jobs wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    listed = subprocess.run(["squeue", "--noheader", "--format=%i|%Z"], capture_output=True, text=True,
                            timeout=30).stdout
    jobs = [jobid for jobid, _, workdir in (line.partition("|") for line in listed.splitlines())
            if workdir and Path(workdir).resolve() == work.resolve()]
    if jobs:
        subprocess.run(["scancel", *jobs], timeout=30)


def _train_jobs(work: Path) -> list[dict]:
    return [row for row in sacct_rows(work) if "." not in row["JobID"] and row["Comment"].startswith("rule_train")]


def _running_train_jobs(work: Path) -> list[str]:
    """Job ids of running train jobs of `work` (squeue: sacct stores the job comment only when the job ends)."""
    listed = subprocess.run(["squeue", "--noheader", "--format=%i|%k|%T|%Z"], capture_output=True, text=True,
                            timeout=30, check=True).stdout
    rows = [line.split("|") for line in listed.splitlines() if line.count("|") == 3]
    return [jobid for jobid, comment, state, workdir in rows
            if comment.startswith("rule_train") and state == "RUNNING" and Path(workdir).resolve() == work.resolve()]


def _wait_for(predicate, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"snakemake ended (rc {process.returncode}) before {what}:\n{_read(process)[1][-3000:]}")
        time.sleep(1)
    if process is not None:
        _finish(process, 1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.slow
def test_training_survives_its_time_limit_and_a_scancel(slurm_demo, tiny_model_dir, tmp_path, measured):
    """One training job, stopped twice and resumed each time: a 1-minute limit on the first attempt (SLURM ends it,
    TIMEOUT, after SIGTERM: the training saves a checkpoint), the profile's retry resumes; that attempt is cancelled
    with scancel after a new checkpoint; the plugin then waits forever (a known bug of 2.8: sacct's "CANCELLED by
    <uid>"), so it is stopped with Ctrl-C as a user would, and the workflow run again finishes from the checkpoint."""
    # 1.3-1.5 s a step in a one-CPU job here (4 s beside another run): the 1-minute attempt ends near step 35, the
    # retry saves within 20 steps, the last run trains the rest (about 60 steps) in under two minutes; a machine
    # three times as fast would still be stopped by the time limit before the last step
    steps = 120
    work, args = _train_workdir(slurm_demo, tmp_path, tiny_model_dir,
                                args={"max_steps": steps, "save_steps": 20, "eval_strategy": "no",
                                      "logging_steps": 50})
    start = time.monotonic()
    process = _snakemake(work, _train_target(), *args, "--set-resources", "train:runtime=1 if attempt == 1 else 20",
                         background=True)
    try:
        # 1. the time limit ends the first attempt (its SIGTERM handler saves a checkpoint within SLURM's KillWait);
        # the retry starts from that checkpoint
        _wait_for(lambda: any(row["State"] == "TIMEOUT" for row in _train_jobs(work)), 300,
                  "the first attempt's TIMEOUT", process)
        after_timeout = _wait_for(lambda: max(_checkpoints(work), default=0), 120,
                                  "the checkpoint saved at the time limit", process)
        # 2. scancel the retry once it wrote a newer checkpoint
        jobid = _wait_for(lambda: _running_train_jobs(work), 120, "the retry running", process)[0]
        _wait_for(lambda: max(_checkpoints(work), default=0) > after_timeout, 600, "a checkpoint of the retry",
                  process)
        subprocess.run(["scancel", jobid], check=True, timeout=30)
        _wait_for(lambda: any(row["JobID"] == jobid and row["State"].startswith("CANCELLED")
                              for row in sacct_rows(work)), 120, "sacct to show the job cancelled")
    finally:
        _stop(process, work)
    # 3. run again: it resumes from the newest complete checkpoint and ends with exactly max_steps steps
    result = _snakemake(work, _train_target(), *args, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    states = [row["State"].split()[0] for row in _train_jobs(work)]
    assert states[0] == "TIMEOUT" and "CANCELLED" in states and states[-1] == "COMPLETED", states
    metrics = json.loads((work / _train_target()).read_text())
    assert metrics["global_step"] == metrics["max_steps"] == steps and metrics["resumed_from"], metrics
    assert (work / f"results/models/{MODEL}/tuned").is_dir()
    measured(f"training through a time limit, a scancel and two resumes on SLURM: {time.monotonic() - start:.0f} s")


@pytest.mark.slow
def test_deepspeed_training_is_a_two_task_job(slurm_demo, tiny_model_dir, tmp_path):
    """torchrun with 2 processes under DeepSpeed ZeRO-3: the job asks SLURM for 2 tasks and sruns torchrun."""
    work, args = _train_workdir(slurm_demo, tmp_path, tiny_model_dir,
                                launcher={"type": "torchrun", "nodes": 1, "processes_per_node": 2},
                                deepspeed="config/deepspeed/zero3.json",
                                args={"max_steps": 2, "save_steps": 1, "eval_strategy": "no"})
    result = _snakemake(work, _train_target(), *args, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _train_jobs(work)
    assert jobs and jobs[-1]["State"] == "COMPLETED", jobs
    jobid = jobs[-1]["JobID"]
    shown = subprocess.run(["scontrol", "show", "job", jobid], capture_output=True, text=True, timeout=30).stdout
    if shown:  # still within MinJobAge
        assert re.search(r"NumTasks=2\b", shown), shown
    steps = [row for row in sacct_rows(work) if row["JobID"].startswith(jobid + ".") and row["JobID"][-1].isdigit()]
    assert steps, "no srun step inside the train job"
    assert acc.tres_counts(jobs[-1]["AllocTRES"])[0] >= 2
    metrics = json.loads((work / _train_target()).read_text())
    assert metrics["global_step"] == metrics["max_steps"] == 2 and metrics["world_size"] == 2
