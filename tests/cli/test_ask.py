"""`lhama ask` goes through the answer stage: base and rag share weights, prompt and decoding; only the passages
differ."""

import json

import lhama.answer as answer_module
from lhama.cli import main
from lhama.config.sections import GenerationConfig
from tiny_models import build_tiny_model


def test_base_and_rag_variants_differ_only_by_the_passages(tmp_path, rag_index, capsys, monkeypatch):
    build_tiny_model(tmp_path / "model")
    seen = []
    original = answer_module.generate

    def recording(model, tokenizer, prompts, decoding=None, **kwargs):
        seen.append((model.name_or_path, prompts, decoding))
        return original(model, tokenizer, prompts, decoding, **kwargs)

    monkeypatch.setattr(answer_module, "generate", recording)
    question = "Quando foi abolida a escravidão?"
    outputs = {}
    for extra in ([], ["--index", str(rag_index), "-k", "2"]):
        assert main(["ask", str(tmp_path / "model"), question, "--json", "--max-new-tokens", "5", *extra]) == 0
        record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        outputs[record["variant"]] = record
    assert set(outputs) == {"base", "rag"}
    assert outputs["base"]["sources"] == []
    assert [s["title"] for s in outputs["rag"]["sources"]][0] == "Lei Áurea"
    (base_model, [base_prompt], base_decoding), (rag_model, [rag_prompt], rag_decoding) = seen
    assert base_model == rag_model  # same weights
    assert base_decoding == rag_decoding == GenerationConfig(max_new_tokens=5)
    assert base_prompt == outputs["base"]["prompt"] and question in base_prompt
    assert "[1] Lei Áurea" in rag_prompt and rag_prompt.replace(rag_prompt[rag_prompt.index("Trechos"):
                                                                          rag_prompt.index(question)], "") == base_prompt
