"""`lhama ask`: base and RAG variants share the model and decoding; only the prompt's passages differ."""

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from test_generate import build_tiny_model  # noqa: E402
from test_rag import articles, build, embedder  # noqa: E402,F401  (module fixtures reused)

from lhama import cli  # noqa: E402
from lhama.generate import DecodingConfig  # noqa: E402


def test_base_and_rag_variants_differ_only_by_the_passages(tmp_path, articles, embedder, capsys, monkeypatch):  # noqa: F811
    build_tiny_model(tmp_path / "model")
    index_dir, _ = build(articles, tmp_path, embedder)
    seen = []
    import lhama.generate as generation  # `ask` imports generate at call time, so patching the module reaches it

    original = generation.generate

    def recording(model, tokenizer, prompts, decoding=None, **kwargs):
        seen.append((model.name_or_path, prompts, decoding))
        return original(model, tokenizer, prompts, decoding, **kwargs)

    monkeypatch.setattr(generation, "generate", recording)
    question = "Quando foi abolida a escravidão?"
    outputs = {}
    for extra in ([], ["--index", str(index_dir), "-k", "2"]):
        assert cli.main(["ask", str(tmp_path / "model"), question, "--json", "--max-new-tokens", "5", *extra]) == 0
        record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        outputs[record["variant"]] = record
    assert set(outputs) == {"base", "base_rag"}
    assert outputs["base"]["sources"] == []
    assert [s["title"] for s in outputs["base_rag"]["sources"]][0] == "Lei Áurea"
    (base_model, base_prompts, base_decoding), (rag_model, rag_prompts, rag_decoding) = seen
    assert base_model == rag_model  # same weights
    assert base_decoding == rag_decoding == DecodingConfig(max_new_tokens=5)
    assert base_prompts == [question]
    assert rag_prompts[0].startswith("Responda em português") and "[1] Lei Áurea" in rag_prompts[0]
