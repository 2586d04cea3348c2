import lhama.workflow as lw
from snakemake.utils import validate

# One clear line naming a bad key, then Snakemake's own validation (which also fills defaults).
lw.check_config(config, workflow.basedir + "/config/config.schema.yaml", source=lw.config_source(workflow))
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
