"""What the workflow's SLURM jobs used: sacct rows per job and GPU-/CPU-hours per rule (results/accounting.tsv).

The slurm executor plugin (2.8) names every job of one run ``<prefix>_<run uuid>`` (the profile sets the prefix
``lhama``), puts ``rule_<rule>[_wildcards_<values>]`` in ``--comment`` and submits with ``-D <workdir>``; it logs
``SLURM run ID: <name>`` and ``Job N has been submitted with SLURM jobid J (log: logs/slurm/rule_<rule>/...)`` into
``.snakemake/log/*.snakemake.log``. This module reads those logs for the run names of this working directory, asks
``sacct`` for those jobs, keeps the ones whose WorkDir is this directory and parses the rows. The rule name comes
from the Comment (clusters that store comments: ``AccountingStoreFlags=job_comment``) or else from the job's log
path in the snakemake log. Parsing is pure and tested against captured sacct text; only :func:`query_sacct` runs it.
"""

from __future__ import annotations

import csv
import getpass
import io
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from lhama.files import read_tsv, tsv_note, write_tsv

SACCT_FIELDS = ("JobID", "JobName", "Comment", "WorkDir", "State", "Elapsed", "ElapsedRaw", "AllocTRES", "MaxRSS",
                "Start", "End")
COLUMNS = ("rule", "wildcards", "jobid", "state", "elapsed_s", "cpus", "gpus", "mem_mb", "max_rss_mb", "gpu_hours",
           "cpu_hours")
SUMMARY_COLUMNS = ("rule", "jobs", "failed", "elapsed_s", "cpus", "gpus", "max_rss_mb", "cpu_hours", "gpu_hours")
LOCAL_NOTE = "no SLURM accounting (local run)"
_OK_STATES = {"COMPLETED", "RUNNING", "PENDING", "REQUEUED", "RESIZING", "SUSPENDED"}
_UNITS_MB = {"K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 ** 2, "P": 1024.0 ** 3}
_RUN_ID = re.compile(r"SLURM run ID: (\S+)")
_SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$")


@dataclass(frozen=True)
class JobUsage:
    rule: str
    wildcards: str
    jobid: str
    state: str
    elapsed_s: int
    cpus: int
    gpus: int
    mem_mb: float
    max_rss_mb: float | None
    gpu_hours: float
    cpu_hours: float


# ------------------------------------------------------------------------------------------- parsing (pure)
def parse_elapsed(text: str) -> int:
    """sacct's Elapsed ``[D-]HH:MM:SS``, ``MM:SS`` or ``MM:SS.mmm`` in seconds (``1-02:03:04`` is 93784)."""
    text = (text or "").strip()
    if not text or text in {"Unknown", "INVALID"}:
        return 0
    days = 0
    if "-" in text:
        day_text, text = text.split("-", 1)
        days = int(day_text)
    parts = [float(part) for part in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    hours, minutes, seconds = parts
    return int(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def parse_size_mb(text: str) -> float | None:
    """A sacct size (MaxRSS ``219712K``, TRES ``mem=4G``) in MiB; a bare number is bytes; empty is None."""
    text = (text or "").strip()
    if not text:
        return None
    unit = text[-1].upper()
    if unit in _UNITS_MB:
        return float(text[:-1]) * _UNITS_MB[unit]
    return float(text) / 1024 ** 2


def parse_tres(text: str) -> dict[str, str]:
    """``billing=1,cpu=2,gres/gpu=1,gres/gpu:fake=1,mem=4G,node=1`` as a dict."""
    return dict(item.split("=", 1) for item in (text or "").split(",") if "=" in item)


def tres_counts(text: str) -> tuple[int, int, float]:
    """(cpus, gpus, mem_mb) of an AllocTRES string; typed GPU entries (gres/gpu:a100) are not counted twice."""
    tres = parse_tres(text)
    cpus = int(tres.get("cpu", 0) or 0)
    gpus = int(tres.get("gres/gpu", 0) or 0)
    if not gpus:  # a cluster that accounts only typed GPUs
        gpus = sum(int(value) for key, value in tres.items() if key.startswith("gres/gpu:"))
    mem = parse_size_mb(tres.get("mem", "")) or 0.0
    return cpus, gpus, mem


def parse_comment(comment: str) -> tuple[str, str] | None:
    """(rule, wildcards) from the plugin's ``rule_<rule>[_wildcards_<values>]`` comment; None for other comments."""
    comment = (comment or "").strip()
    if not comment.startswith("rule_"):
        return None
    body = comment[len("rule_"):]
    rule, _, wildcards = body.partition("_wildcards_")
    return rule, wildcards


def parse_log_path(path: str) -> tuple[str, str] | None:
    """(rule, wildcards) from a plugin log path ``.../rule_<rule>[/<wildcards>]/<jobid>.log``."""
    parts = Path(path).parts
    for index, part in enumerate(parts):
        if part.startswith("rule_"):
            rest = parts[index + 1:-1]
            return part[len("rule_"):], "_".join(rest)
    return None


def parse_snakemake_logs(texts) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Run names and {jobid: (rule, wildcards)} from the text of ``.snakemake/log/*.snakemake.log`` files."""
    run_ids: list[str] = []
    jobs: dict[str, tuple[str, str]] = {}
    for text in texts:
        for line in text.splitlines():
            if match := _RUN_ID.search(line):
                if match.group(1) not in run_ids:
                    run_ids.append(match.group(1))
            elif match := _SUBMITTED.search(line.strip()):
                parsed = parse_log_path(match.group(2))
                if parsed:
                    jobs[match.group(1)] = parsed
    return run_ids, jobs


def parse_sacct(text: str, workdir: str | None = None, jobname_prefix: str | None = None,
                log_jobs: dict[str, tuple[str, str]] | None = None) -> list[JobUsage]:
    """Rows of ``sacct --parsable2 --format <SACCT_FIELDS>`` (header line included) as one JobUsage per job.

    Step lines (``123.batch``, ``123.extern``, ``123.0``) only lend their MaxRSS to their job (the largest).
    A job is kept when its WorkDir is ``workdir`` (if given), its name starts with ``jobname_prefix`` (if given)
    and its rule is known (from the Comment or ``log_jobs``).
    """
    log_jobs = log_jobs or {}
    reader = csv.DictReader(io.StringIO(text.strip() + "\n"), delimiter="|")
    jobs: dict[str, dict] = {}
    rss: dict[str, float] = {}
    order: list[str] = []
    for row in reader:
        jobid = (row.get("JobID") or "").strip()
        if not jobid:
            continue
        main, _, step = jobid.partition(".")
        size = parse_size_mb(row.get("MaxRSS", ""))
        if size is not None:
            rss[main] = max(rss.get(main, 0.0), size)
        if step:
            continue
        jobs[main] = row
        order.append(main)
    wanted = str(Path(workdir).resolve()) if workdir else None
    usages = []
    for jobid in order:
        row = jobs[jobid]
        if wanted and str(Path(row.get("WorkDir") or "/nonexistent").resolve()) != wanted:
            continue
        if jobname_prefix and not (row.get("JobName") or "").startswith(jobname_prefix):
            continue
        origin = parse_comment(row.get("Comment", "")) or log_jobs.get(jobid.split("_")[0]) or log_jobs.get(jobid)
        if origin is None:
            continue
        elapsed = row.get("ElapsedRaw", "").strip()
        elapsed_s = int(elapsed) if elapsed.isdigit() else parse_elapsed(row.get("Elapsed", ""))
        cpus, gpus, mem_mb = tres_counts(row.get("AllocTRES", ""))
        state = (row.get("State") or "").split()[0] if (row.get("State") or "").strip() else ""
        usages.append(JobUsage(
            rule=origin[0], wildcards=origin[1], jobid=jobid, state=state, elapsed_s=elapsed_s, cpus=cpus, gpus=gpus,
            mem_mb=round(mem_mb, 1), max_rss_mb=round(rss[jobid], 1) if jobid in rss else None,
            gpu_hours=round(gpus * elapsed_s / 3600, 6), cpu_hours=round(cpus * elapsed_s / 3600, 6)))
    return usages


def summarize(usages: list[JobUsage]) -> list[dict]:
    """Per rule (in first-seen order): jobs, failed jobs, elapsed seconds, CPU- and GPU-hours, the largest MaxRSS."""
    summary: dict[str, dict] = {}
    for usage in usages:
        entry = summary.setdefault(usage.rule, {"rule": usage.rule, "jobs": 0, "failed": 0, "elapsed_s": 0,
                                                "cpus": 0, "gpus": 0, "max_rss_mb": None, "cpu_hours": 0.0,
                                                "gpu_hours": 0.0})
        entry["jobs"] += 1
        entry["failed"] += usage.state not in _OK_STATES
        entry["elapsed_s"] += usage.elapsed_s
        entry["cpus"] = max(entry["cpus"], usage.cpus)
        entry["gpus"] = max(entry["gpus"], usage.gpus)
        if usage.max_rss_mb is not None:
            entry["max_rss_mb"] = max(entry["max_rss_mb"] or 0.0, usage.max_rss_mb)
        entry["cpu_hours"] = round(entry["cpu_hours"] + usage.cpu_hours, 6)
        entry["gpu_hours"] = round(entry["gpu_hours"] + usage.gpu_hours, 6)
    return list(summary.values())


# ------------------------------------------------------------------------------------------------ writing, reading
def write_tables(usages: list[JobUsage], table: Path, summary: Path, note: str | None = None) -> None:
    write_tsv(table, [asdict(usage) for usage in usages], COLUMNS, note=note)
    write_tsv(summary, summarize(usages), SUMMARY_COLUMNS, note=note)


def accounting_summary(path: str | Path | None) -> dict:
    """GPU- and CPU-hours per stage from results/accounting.tsv (one row per SLURM job); a note when the run had
    no SLURM accounting (a local run)."""
    if not path or not Path(path).exists():
        return {"rows": [], "note": "No SLURM accounting: this run did not go through SLURM."}
    jobs, note = read_tsv(path), tsv_note(path)
    if not jobs:
        return {"rows": [], "note": note or "No SLURM accounting: no SLURM job of this workflow was found by sacct."}
    stages: dict[str, dict] = {}
    for job in jobs:
        stage = stages.setdefault(str(job["rule"]), {"rule": str(job["rule"]), "jobs": 0, "elapsed_h": 0.0,
                                                     "cpu_hours": 0.0, "gpu_hours": 0.0, "max_rss_mb": None})
        stage["jobs"] += 1
        stage["elapsed_h"] += (job.get("elapsed_s") or 0) / 3600
        stage["cpu_hours"] += job.get("cpu_hours") or 0.0
        stage["gpu_hours"] += job.get("gpu_hours") or 0.0
        if job.get("max_rss_mb") is not None:
            stage["max_rss_mb"] = max(stage["max_rss_mb"] or 0, job["max_rss_mb"])
    return {"rows": sorted(stages.values(), key=lambda row: -row["elapsed_h"]), "note": ""}


# ---------------------------------------------------------------------------------------------------- sacct
def snakemake_log_texts(workdir: Path) -> list[str]:
    logs = sorted((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"))
    return [path.read_text(encoding="utf-8", errors="replace") for path in logs]


def _start_time(workdir: Path) -> str:
    """The oldest snakemake log of the working directory, less a day (sacct's default start is today's midnight)."""
    logs = list((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"))
    oldest = min((path.stat().st_mtime for path in logs), default=None)
    start = datetime.fromtimestamp(oldest) - timedelta(days=1) if oldest else datetime.now() - timedelta(days=30)
    # a log's mtime is its last write: runs longer than a day started before it
    start = min(start, datetime.now() - timedelta(days=7))
    return f"{start:%Y-%m-%dT%H:%M:%S}"


def sacct_command(run_ids: list[str], start: str, user: str | None = None) -> list[str]:
    return ["sacct", "--parsable2", f"--format={','.join(SACCT_FIELDS)}", "--starttime", start, "--endtime", "now",
            "--user", user or getpass.getuser(), "--name", ",".join(run_ids)]


def query_sacct(workdir: Path, jobname_prefix: str | None = None, timeout: int = 60) -> tuple[list[JobUsage], str | None]:
    """(usages, note) for the SLURM jobs run from ``workdir``; a note says why there are none."""
    workdir = Path(workdir).resolve()
    run_ids, log_jobs = parse_snakemake_logs(snakemake_log_texts(workdir))
    if not run_ids:
        return [], f"{LOCAL_NOTE}: no run of the slurm executor in {workdir / '.snakemake/log'}"
    if shutil.which("sacct") is None:
        return [], f"{LOCAL_NOTE}: sacct not found on this machine"
    command = sacct_command(run_ids, _start_time(workdir))
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"no SLURM accounting: sacct did not answer in {timeout} s"
    if result.returncode != 0:
        return [], f"no SLURM accounting: sacct failed: {result.stderr.strip()[:300]}"
    usages = parse_sacct(result.stdout, workdir=str(workdir), jobname_prefix=jobname_prefix, log_jobs=log_jobs)
    if not usages:
        return [], f"{LOCAL_NOTE}: sacct lists no job of runs {', '.join(run_ids)} in {workdir}"
    return usages, None


def write_accounting(workdir: Path, table: Path, summary: Path, jobname_prefix: str | None = None) -> str | None:
    """Query sacct and write both tables; returns the note (None when jobs were found)."""
    usages, note = query_sacct(workdir, jobname_prefix=jobname_prefix)
    write_tables(usages, table, summary, note)
    return note
