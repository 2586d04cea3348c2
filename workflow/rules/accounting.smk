# What the SLURM jobs of this working directory used (sacct): results/accounting.tsv, one row per job, and
# results/accounting_summary.tsv, CPU- and GPU-hours per rule. A localrule that runs after every other input of the
# report (so after every SLURM job) and before it; a local run writes the headers and a "# no SLURM accounting
# (local run)" line instead.


localrules:
    accounting,


rule accounting:
    input:
        accounting_inputs,
    output:
        table="results/accounting.tsv",
        summary="results/accounting_summary.tsv",
    log:
        "logs/accounting.log",
    benchmark:
        "results/benchmarks/accounting.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/accounting.py"
