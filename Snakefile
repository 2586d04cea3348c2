# lhama: what fine-tuning a LLaMA-family model on Portuguese Wikipedia buys, over the base model and over RAG.
#   snakemake -c2                       the embedded default (sample dump, paper questions) -> results/report.html
#   snakemake -n --profile slurm        plan on a cluster login node; drop -n to run
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/qa.smk"
include: "workflow/rules/rag.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/answer.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/accounting.smk"


localrules:
    all,
    report,
    retrieval_plot,
    loss_plot,
    results_plot,


rule all:
    input:
        "results/report.html",
        pretraining_outputs(),
