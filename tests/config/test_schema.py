"""lhama.config.schema: the catalog's schema and config/README.md are what the classes generate, and the configs
this repository ships pass both the classes and the schema."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from lhama.config.loading import load_config, merged_files, to_dict
from lhama.config.schema import DOCS_PATH, SCHEMA_PATH, docs_markdown, json_schema, schema_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_and_docs_are_generated_from_the_classes():
    assert (ROOT / SCHEMA_PATH).read_text(encoding="utf-8") == schema_yaml(), \
        f"{SCHEMA_PATH} is stale: run `lhama config schema --write`"
    assert (ROOT / DOCS_PATH).read_text(encoding="utf-8") == docs_markdown(), \
        f"{DOCS_PATH} is stale: run `lhama config docs --write`"


@pytest.mark.parametrize("files", [[], ["config/atena.yaml"], ["config/cluster-template.yaml"]])
def test_shipped_configs_pass_classes_and_schema(files):
    validator = jsonschema.Draft202012Validator(json_schema())
    validator.validate(merged_files([ROOT / name for name in files], ROOT))
    validator.validate(to_dict(load_config([ROOT / name for name in files], ROOT)))


def test_every_key_of_the_docs_is_in_the_schema():
    schema = yaml.safe_load((ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))
    for section in ("download", "extract", "qa", "prompt", "split", "rag", "train", "perplexity", "generation",
                    "evaluate", "cluster", "resources"):
        assert section in schema["properties"] and f"## `{section}" in docs_markdown()
    assert schema["properties"]["rag"]["properties"]["retriever"]["properties"]["k"]["default"] == 5
