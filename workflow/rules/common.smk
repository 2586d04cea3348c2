import lhama.workflow as lw
from snakemake.utils import validate

# `--config` values typed as the schema expects and one clear line naming a bad key, then Snakemake's own
# validation (which also fills defaults).
lw.prepare_workflow_config(config, workflow, workflow.basedir + "/config/config.schema.yaml")
validate(config, schema="../../config/config.schema.yaml")

DUMP = lw.local_dump_path(config["dump"], config["download"]["dir"])
DOWNLOADING = lw.is_url(config["dump"])
INDEX = lw.index_for(DUMP, config["dump_index"], will_download=DOWNLOADING)
QUESTION_SETS = lw.question_sets(config["questions"])


wildcard_constraints:
    qset="|".join(re.escape(name) for name in QUESTION_SETS),


def extract_input(wildcards):
    return {"dump": DUMP, "index": INDEX} if INDEX else {"dump": DUMP}


def question_file(wildcards):
    return QUESTION_SETS[wildcards.qset]


def rule_resources(name):
    return {**config["resources"]["default"], **config["resources"].get(name, {})}


def pretraining_outputs():
    return ["results/qa/pretraining.jsonl"] if config["qa"]["pretraining_text"] else []


SHARDS = [f"{shard:03d}" for shard in range(config["rag"]["shards"])]
# Retrieval is scored on every configured question set plus the held-out split of the instruction data.
HELDOUT = "heldout"
if HELDOUT in QUESTION_SETS:
    raise lw.ConfigError("questions", f"the set name {HELDOUT!r} is reserved for the held-out split; rename the file")
EVAL_SETS = {**QUESTION_SETS, HELDOUT: "results/qa/test_questions.jsonl"}


wildcard_constraints:
    shard=r"\d{3}",
    eval_set="|".join(re.escape(name) for name in EVAL_SETS),


def eval_question_file(wildcards):
    return EVAL_SETS[wildcards.eval_set]


def embedder_inputs(wildcards=None):
    """The cached embedder snapshot a hub embedder needs (fetched once by the download_embedder localrule)."""
    return ["results/rag/embedder.json"] if config["rag"]["embedder"]["model"].startswith("hub:") else []


# ----------------------------------------------------------------------------------------------- models, variants
MODELS = lw.model_entries(config)
VARIANTS = config["variants"]
# Sized by `lhama plan` from the model's size and training config; a job that cannot fit stops the dry run here.
TRAIN_PLANS = {plan.model: plan for plan in lw.workflow_plans(config, workflow.basedir)}


wildcard_constraints:
    model="|".join(re.escape(name) for name in MODELS),
    variant="|".join(VARIANTS),


def hub_models():
    return [name for name, entry in MODELS.items() if entry.spec.kind == "hub"]


def model_download(wildcards):
    """A hub model is fetched first by the download_model localrule (login node, HF_TOKEN from the environment)."""
    return [f"results/models/{wildcards.model}/hub.json"] if MODELS[wildcards.model].spec.kind == "hub" else []


def model_resources(rule, wildcards):
    return lw.rule_resources(MODELS[wildcards.model].resources, rule)


def train_resources(name):
    """A train job's SLURM resources from its plan: GPUs, tasks (one per process; `mpi` makes the rule start them
    with srun itself), CPUs, memory and time."""

    def value(wildcards):
        plan = TRAIN_PLANS[wildcards.model]
        values = {"mem_mb": plan.mem_mb, "runtime": plan.runtime_min, "gpu": plan.gpus, "cpus_per_task": plan.cpus,
                  "nodes": plan.nodes, "tasks": plan.tasks, "mpi": plan.tasks > 1, "tasks_per_gpu": 1 if plan.gpus else 0,
}
        return values[name]

    return value


def inference_resource(rule, name):
    def value(wildcards):
        entry = MODELS[wildcards.model]
        gpus = lw.inference_gpus(entry.spec.params, config["cluster"])
        values = {**model_resources(rule, wildcards), "gpu": gpus}
        if gpus:
            values["mem_mb"] = max(values["mem_mb"], gpus * config["cluster"]["mem_mb_per_gpu"] // 2)
        return values.get(name)

    return value


def answer_inputs(wildcards):
    inputs = {"model": f"results/models/{wildcards.model}/base", "questions": eval_question_file(wildcards)}
    if wildcards.variant.startswith("tuned"):
        inputs["adapter"] = f"results/models/{wildcards.model}/tuned"
    if wildcards.variant.endswith("rag"):
        inputs["index"] = "results/rag/index"
    return inputs


def all_answers():
    return expand("results/answers/{model}/{variant}/{eval_set}.jsonl", model=MODELS, variant=VARIANTS,
                  eval_set=EVAL_SETS)


def needs_tuning():
    return any(variant.startswith("tuned") for variant in VARIANTS)
