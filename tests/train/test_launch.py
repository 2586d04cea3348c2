"""lhama.train.launch: the launcher lines for one process, torchrun and accelerate, in and out of SLURM."""

import sys
from pathlib import Path

import pytest

from lhama.config.loading import parse
from lhama.config.sections import TrainConfig
from lhama.errors import ConfigError
from lhama.train.launch import launch_command, slurm_first_host


def config(**launcher) -> TrainConfig:
    return parse(TrainConfig, {"launcher": launcher}, "train")


def test_launch_command_single_and_standalone_torchrun():
    argv = ["--model", "m", "--out", "o"]
    assert launch_command(config(), argv, {}) == [sys.executable, "-m", "lhama.cli.train", *argv]
    command = launch_command(config(type="torchrun", processes_per_node=2), argv, {})
    assert Path(command[0]).name == "torchrun"
    assert command[1:] == ["--standalone", "--nproc-per-node", "2", "-m", "lhama.cli.train", *argv]
    with pytest.raises(ConfigError, match="SLURM"):
        launch_command(config(type="torchrun", nodes=2), argv, {})


def test_launch_command_under_slurm_uses_srun_and_first_host():
    calls = []

    def scontrol(command):
        calls.append(command)
        return "gpu07\ngpu08\n"

    env = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    command = launch_command(config(type="torchrun", nodes=2, processes_per_node=3), ["--out", "o"], env,
                             runner=scontrol)
    assert calls == [["scontrol", "show", "hostnames", "gpu[07-08]"]]
    assert command[:4] == ["srun", "--kill-on-bad-exit=1", "--ntasks-per-node=1", "--nodes=2"]
    assert Path(command[4]).name == "torchrun"
    assert command[5:] == ["--nnodes", "2", "--nproc-per-node", "3", "--rdzv-id", "4242", "--rdzv-backend", "c10d",
                           "--rdzv-endpoint", "gpu07:29500", "-m", "lhama.cli.train", "--out", "o"]
    accelerate = launch_command(config(type="accelerate", nodes=2, processes_per_node=3), ["--out", "o"],
                                {**env, "SLURM_GPUS_ON_NODE": "3"}, runner=scontrol)
    assert accelerate[:4] == command[:4] and accelerate[4:6] == ["bash", "-c"]
    script = accelerate[6]
    for part in ("launch --num_processes 6 --num_machines 2 --multi_gpu", "--machine_rank $SLURM_NODEID",
                 "--main_process_ip gpu07", "-m lhama.cli.train --out o"):
        assert part in script
    assert slurm_first_host("node3,node4") == "node3"  # plain lists need no scontrol


def test_launch_command_finds_the_nodes_when_the_jobstep_stripped_the_environment():
    """Snakemake's slurm jobstep plugin keeps only SLURM_JOB_ID: the node list comes from scontrol."""
    calls = []

    def scontrol(command):
        calls.append(command)
        return ("JobId=77 JobName=lhama_x UserId=root(0) NumNodes=1 NodeList=vm BatchHost=vm"
                if command[:3] == ["scontrol", "show", "job"] else "")

    two = config(type="torchrun", nodes=1, processes_per_node=2)
    command = launch_command(two, ["--out", "o"], {"SLURM_JOB_ID": "77"}, runner=scontrol)
    assert calls == [["scontrol", "show", "job", "--oneliner", "77"]]
    assert "vm:29500" in command and command[0] == "srun"
    with pytest.raises(ConfigError, match="no node list for job 77"):
        launch_command(two, ["--out", "o"], {"SLURM_JOB_ID": "77"}, runner=lambda command: "JobId=77")
