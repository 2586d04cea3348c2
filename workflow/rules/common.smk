import sys

import lhama.dag_plan as dag_plan
import lhama.workflow as lw
from lhama.config.loading import to_dict
from lhama.config.sections import ADAPTERS, VARIANT_ADAPTER, VARIANT_RETRIEVES, RetrievalSettings
from snakemake.utils import validate

# The merged config checked against lhama.config's section classes (one line naming the first bad key and its
# source), every model's train.args checked by transformers' HfArgumentParser (not in the jobs of a cluster run,
# which re-read this file), then `config` replaced by the complete typed values; Snakemake's validation is the
# catalog's schema, generated from the same classes.
CONFIG = lw.load_workflow_config(config, workflow, check_train_args=workflow.is_main_process)


validate(config, schema="../schemas/config.schema.yaml")


DUMP = lw.local_dump_path(CONFIG.dump, CONFIG.download.dir)
DOWNLOADING = lw.is_url(CONFIG.dump)
INDEX = lw.index_for(DUMP, CONFIG.dump_index, will_download=DOWNLOADING)
QUESTION_SETS = lw.question_sets(CONFIG.questions)
# Retrieval is scored, and questions are answered, on every configured question set plus the held-out split.
HELDOUT = "heldout"  # a sample of the test split's questions: articles training never saw (with split.by: article)
SEEN = "seen"  # facts of the training split asked anew (knowledge injection), lhama.seen
for reserved in (HELDOUT, SEEN):
    if reserved in QUESTION_SETS:
        raise lw.ConfigError("questions", f"the set name {reserved!r} is reserved; rename the file")
EVAL_SETS = {
    **QUESTION_SETS,
    HELDOUT: "results/qa/heldout_questions.jsonl",
    **({SEEN: "results/qa/seen_questions.jsonl"} if CONFIG.evaluate.seen_facts != 0 else {}),
}
SHARDS = [f"{shard:03d}" for shard in range(CONFIG.rag.shards)]
MODELS = lw.model_entries(CONFIG)
VARIANTS = CONFIG.variants
# The adapters the variants answer with (tuned; raft, trained with passages), each a train job per model, sized
# by `lhama plan` from the model's size and training config: a job that cannot fit stops the dry run here.
ADAPTERS_USED = lw.adapters_in_use(CONFIG)
TRAIN_PLANS = {(plan.model, plan.adapter): plan for plan in lw.workflow_plans(CONFIG, workflow.basedir)}
# Every GPU job of the DAG sized by the same planner (`lhama plan --config`): each answer, perplexity, embed and
# judge job's time limit comes from its estimate, and one longer than cluster.max_runtime_min stops the dry run.
# A question set larger than generation.shard_questions is answered by several jobs ("{part}-of-{parts}").
DAG_PLAN = dag_plan.dag_plan(CONFIG, QUESTION_SETS, ".")
ANSWER_PARTS = DAG_PLAN.answer_parts
if workflow.is_main_process:
    print(dag_plan.dry_run_line(DAG_PLAN), file=sys.stderr)
# What retrieving reads of `rag` (the query side): the params of retrieval_eval and of the rag answers.
RETRIEVAL = to_dict(RetrievalSettings.of(CONFIG.rag))


wildcard_constraints:
    qset="|".join(re.escape(name) for name in QUESTION_SETS),
    eval_set="|".join(re.escape(name) for name in EVAL_SETS),
    shard=r"\d{3}",
    part=r"\d{3}",
    parts=r"\d{3}",
    model="|".join(re.escape(name) for name in MODELS),
    variant="|".join(VARIANTS),
    adapter="|".join(ADAPTERS),


def rule_resources(name):
    return lw.rule_resources(CONFIG.resources, name)


def extract_input(wildcards):
    return {"dump": DUMP, "index": INDEX} if INDEX else {"dump": DUMP}


def question_file(wildcards):
    return QUESTION_SETS[wildcards.qset]


def eval_question_file(wildcards):
    return EVAL_SETS[wildcards.eval_set]


def pretraining_outputs():
    return ["results/qa/pretraining.jsonl"] if CONFIG.qa.pretraining_text else []


def embedder_inputs(wildcards=None):
    """The cached embedder snapshot a hub embedder needs (fetched once by the download_embedder localrule)."""
    return ["results/rag/embedder.json"] if CONFIG.rag.embedder.model.startswith("hub:") else []


def hub_models():
    return [name for name, entry in MODELS.items() if entry.spec.kind == "hub"]


def model_download(wildcards):
    """A hub model is fetched first by the download_model localrule (login node, HF_TOKEN from the environment)."""
    return [f"results/models/{wildcards.model}/hub.json"] if MODELS[wildcards.model].spec.kind == "hub" else []


def model_spec(wildcards):
    return MODELS[wildcards.model].spec.to_dict()


def model_resources(rule, name):
    def value(wildcards):
        return MODELS[wildcards.model].rule_resources(rule).get(name)

    return value


def train_resources(name):
    """A train job's SLURM resources from its plan: GPUs, tasks (one per process; `mpi` makes the rule start them
    with srun itself), CPUs, memory and time."""

    def value(wildcards):
        plan = TRAIN_PLANS[wildcards.model, wildcards.adapter]
        values = {
            "mem_mb": plan.mem_mb,
            "runtime": plan.runtime_min,
            "gpu": plan.gpus,
            "cpus_per_task": plan.cpus,
            "nodes": plan.nodes,
            "tasks": plan.tasks,
            "mpi": plan.tasks > 1,
            "tasks_per_gpu": 1 if plan.gpus else 0,
        }
        return values[name]

    return value


def inference_resource(rule, name):
    """An answering or perplexity job's resources, with the GPUs a bf16 copy of its model needs."""

    def value(wildcards):
        return lw.inference_resources(MODELS[wildcards.model], rule, CONFIG).get(name)

    return value


def planned_runtime(rule, name):
    """A job's time limit from its estimate in DAG_PLAN; `name` maps the job's wildcards to its plan name."""

    def value(wildcards):
        return DAG_PLAN.job(rule, name(wildcards)).runtime_min

    return value


def planned_cpu(rule, resource, name=lambda wildcards: None):
    """A CPU job's time limit (`runtime`) or memory (`mem_mb`) from its estimate in DAG_PLAN (lhama.cpu_plan);
    `name` maps the job's wildcards to its plan name (the rule's own when it gives none)."""

    def value(wildcards):
        job = DAG_PLAN.cpu_job(rule, name(wildcards) or rule)
        return job.runtime_min if resource == "runtime" else job.mem_mb

    return value


def answer_part_name(wildcards):
    return f"{answer_set_name(wildcards)}/{wildcards.part}"


def answer_parts(wildcards):
    """The answer jobs' files of one question set, in part order."""
    count = ANSWER_PARTS[wildcards.eval_set]
    return [
        f"results/answers/{wildcards.model}/{wildcards.variant}/{wildcards.eval_set}/{part:03d}-of-{count:03d}.jsonl"
        for part in range(count)
    ]


def answer_inputs(wildcards):
    inputs = {
        "model": f"results/models/{wildcards.model}/base",
        "questions": eval_question_file(wildcards),
    }
    if VARIANT_ADAPTER[wildcards.variant]:
        inputs["adapter"] = f"results/models/{wildcards.model}/{VARIANT_ADAPTER[wildcards.variant]}"
    if VARIANT_RETRIEVES[wildcards.variant]:
        inputs["index"] = "results/rag/index"
    return inputs


def answer_retrieval(wildcards):
    """What a rag variant's job reads of `rag`; nothing for base and tuned, so a retriever knob leaves them be."""
    return RETRIEVAL if VARIANT_RETRIEVES[wildcards.variant] else None


def judge_inputs(wildcards):
    """The judge's model folder, the answer file it judges and, when that variant answered with passages, the
    index (whose passages it checks the answer against)."""
    inputs = {
        "model": f"results/models/{CONFIG.evaluate.judge}/base",
        "answers": "results/answers/{model}/{variant}/{eval_set}.jsonl",
    }
    if VARIANT_RETRIEVES[wildcards.variant]:
        inputs["index"] = "results/rag/index"
    return inputs


def answer_set_name(wildcards):
    return f"{wildcards.model}/{wildcards.variant}/{wildcards.eval_set}"


def judgements():
    """One judge job per answer file: a change reruns only the judgements of the answers it changed."""
    if not CONFIG.evaluate.judge:
        return []
    return expand(
        "results/evaluation/judgements/{model}/{variant}/{eval_set}.jsonl",
        model=MODELS,
        variant=VARIANTS,
        eval_set=EVAL_SETS,
    )


def all_answers():
    return expand(
        "results/answers/{model}/{variant}/{eval_set}.jsonl",
        model=MODELS,
        variant=VARIANTS,
        eval_set=EVAL_SETS,
    )


def needs_tuning():
    """The tuned adapter is in use: its held-out perplexity is measured."""
    return "tuned" in ADAPTERS_USED


def tuned_outputs(pattern):
    return expand(pattern, model=MODELS) if needs_tuning() else []


def training_outputs(pattern):
    """`pattern` for every training job: model x adapter in use."""
    return expand(pattern, model=MODELS, adapter=ADAPTERS_USED)


def train_data(wildcards):
    """The tuned adapter trains on the instruction examples, raft on the same asked with passages."""
    folder = "results/qa" if wildcards.adapter == "tuned" else "results/qa/raft"
    return {"train": f"{folder}/train.jsonl", "eval": f"{folder}/test.jsonl"}


def accounting_inputs(wildcards):
    """Everything the report reads except this table: the accounting runs once all those jobs have finished."""
    return [path for path in rules.report.input if isinstance(path, str) and not path.startswith("results/accounting")]
