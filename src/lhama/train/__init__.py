"""Fine-tuning (stage `train`): TRL's SFTTrainer with PEFT LoRA, QLoRA (bitsandbytes NF4) or a full fine-tune.

One module per job: `data` (rows and prompt/completion records), `checkpoints` (preemption-safe resume and the
signals that ask for a checkpoint), `trainer` (SFTConfig, model, SFTTrainer), `outputs` (adapter, model card,
metrics), `launch` (torchrun/accelerate, srun under SLURM) and `run` (one run end to end). The command line and the
multi-process entry point is `python -m lhama.cli.train`. Nothing here is imported by this package's `__init__`,
so `import lhama.train.launch` stays light.
"""
