"""Starting a training job's processes: `single` runs in this process; `torchrun` or `accelerate` start one process
per GPU, and inside a SLURM allocation `srun` starts one launcher per node that meet at the first host (c10d
rendezvous). Each process runs `python -m lhama.cli.train`, which imports only what training needs."""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lhama.config.sections import TrainConfig
from lhama.errors import ConfigError

log = logging.getLogger(__name__)

RENDEZVOUS_PORT = 29500
ENTRY_POINT = "lhama.cli.train"


def slurm_first_host(nodelist: str, runner: Callable[[list[str]], str] | None = None) -> str:
    """First host of a SLURM node list. A plain list (`node1,node2`) is split here; a compressed one
    (`node[01-04]`) is expanded by `scontrol show hostnames` (`runner` replaces it in tests)."""
    nodelist = nodelist.strip()
    if not nodelist:
        raise ConfigError("SLURM_JOB_NODELIST", "empty node list")
    if "[" not in nodelist:
        return nodelist.split(",")[0]
    if runner is None:
        def runner(command: list[str]) -> str:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    hosts = runner(["scontrol", "show", "hostnames", nodelist]).split()
    if not hosts:
        raise ConfigError("SLURM_JOB_NODELIST", f"scontrol expanded {nodelist!r} to no host")
    return hosts[0]


def allocation_nodelist(env: Mapping[str, str], runner: Callable[[list[str]], str] | None = None) -> str:
    """The node list of the SLURM allocation: from the environment, else from `scontrol show job` (Snakemake's
    slurm jobstep plugin strips every SLURM_* variable but the job id before it runs a job's script)."""
    for name in ("SLURM_JOB_NODELIST", "SLURM_NODELIST"):
        if env.get(name, "").strip():
            return env[name]
    if runner is None:
        def runner(command: list[str]) -> str:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    shown = runner(["scontrol", "show", "job", "--oneliner", str(env["SLURM_JOB_ID"])])
    match = re.search(r"(?:^|\s)NodeList=(\S+)", shown)
    if not match or match.group(1) in ("", "(null)"):
        raise ConfigError("SLURM_JOB_NODELIST", f"no node list for job {env['SLURM_JOB_ID']} "
                                                "(neither in the environment nor from scontrol)")
    return match.group(1)


def _tool(name: str) -> str:
    """A console script of this environment (next to the interpreter), else the name looked up on PATH."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def launch_command(config: TrainConfig, argv: Sequence[str], env: Mapping[str, str], *,
                   runner: Callable[[list[str]], str] | None = None) -> list[str]:
    """The command that runs `lhama train <argv>` with `config.launcher`:
    single -> this interpreter; torchrun/accelerate -> one process per GPU. Inside a SLURM allocation
    (SLURM_JOB_ID set) with more than one process, srun starts one launcher per node and they meet at the
    allocation's first host (c10d rendezvous on port 29500); outside SLURM, a standalone single-node launch."""
    launcher = config.launcher
    entry = ["-m", ENTRY_POINT, *argv]
    if launcher.type == "single":
        return [sys.executable, *entry]
    nodes, per_node = launcher.nodes, launcher.processes_per_node
    in_slurm = bool(env.get("SLURM_JOB_ID")) and launcher.world_size > 1
    if not in_slurm and nodes > 1:
        raise ConfigError("train.launcher.nodes", f"{nodes} nodes need a SLURM allocation (SLURM_JOB_ID unset)")
    host = slurm_first_host(allocation_nodelist(env, runner), runner) if in_slurm else None
    srun = ["srun", "--kill-on-bad-exit=1", "--ntasks-per-node=1", f"--nodes={nodes}"]
    if launcher.type == "torchrun":
        if not in_slurm:
            return [_tool("torchrun"), "--standalone", "--nproc-per-node", str(per_node), *entry]
        return [*srun, _tool("torchrun"), "--nnodes", str(nodes), "--nproc-per-node", str(per_node),
                "--rdzv-id", str(env["SLURM_JOB_ID"]), "--rdzv-backend", "c10d",
                "--rdzv-endpoint", f"{host}:{RENDEZVOUS_PORT}", *entry]
    accelerate = [_tool("accelerate"), "launch", "--num_processes", str(launcher.world_size),
                  "--num_machines", str(nodes)]
    if launcher.world_size > 1:  # accelerate's multi-process launcher, CPU (gloo) included: without it, one process
        accelerate.append("--multi_gpu")
    if not in_slurm:
        return [*accelerate, "--main_process_port", str(RENDEZVOUS_PORT), *entry]
    # each node needs its own rank: SLURM_NODEID is only known inside the srun task, hence the shell
    command = [*accelerate, "--machine_rank", "$SLURM_NODEID", "--main_process_ip", host,
               "--main_process_port", str(RENDEZVOUS_PORT), "--rdzv_backend", "c10d", *entry]
    script = " ".join("$SLURM_NODEID" if part == "$SLURM_NODEID" else shlex.quote(part) for part in command)
    return [*srun, "bash", "-c", script]


def run_training(config: TrainConfig, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run `lhama train <argv>` through `launch_command`, waiting for it; returns its exit status."""
    env = dict(os.environ if env is None else env)
    command = launch_command(config, argv, env)
    log.info("launching: %s", shlex.join(command))
    return subprocess.run(command, env=env, check=False).returncode
