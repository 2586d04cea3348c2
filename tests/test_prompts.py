"""lhama.prompts: one rendering for training, answering and `lhama ask`; the four variants of a question differ
only by their passages."""

import pytest

from lhama.config.sections import PromptConfig
from lhama.errors import ConfigError
from lhama.models import load_model
from lhama.prompts import messages, render, training_record, use_chat_template, user_message
from lhama.rag.retriever import RetrievedChunk
from tiny_models import build_tiny_model

PASSAGES = [RetrievedChunk(1, 0.9, "Lei Áurea", "", "Lei Áurea\nA lei aboliu a escravidão.", "u", 1, "1:0"),
            RetrievedChunk(2, 0.5, "Brasil", "História", "Brasil — História\nTexto.", "u", 2, "2:0")]
QUESTION = "Quando foi abolida a escravidão?"


@pytest.fixture(scope="module")
def chat_tokenizer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny") / "chat"
    build_tiny_model(folder)
    return load_model(folder, device="cpu")[1]


def test_passages_go_before_the_question_numbered_with_no_dangling_label():
    text = user_message(QUESTION, PASSAGES)
    assert "[1] Lei Áurea\nA lei aboliu" in text and "[2] Brasil — História" in text
    assert text.index("[1]") < text.index("[2]") < text.index(QUESTION) and text.endswith(QUESTION)
    assert "Resposta:" not in text and "não contêm a resposta" in text
    assert user_message(QUESTION) == user_message(QUESTION, []) == QUESTION


def test_four_variants_differ_only_by_their_passages(chat_tokenizer):
    """base/tuned render with no passages, rag/tuned_rag with them: the same system turn, template and question."""
    prompt = PromptConfig()
    variants = {variant: render(chat_tokenizer, [user_message(QUESTION, PASSAGES if variant.endswith("rag") else None)],
                                prompt=prompt, chat=True)[0] for variant in ("base", "tuned", "rag", "tuned_rag")}
    assert variants["base"] == variants["tuned"] and variants["rag"] == variants["tuned_rag"]
    block = user_message(QUESTION, PASSAGES).removesuffix(QUESTION)
    assert variants["rag"] == variants["base"].replace(QUESTION, block + QUESTION)
    assert variants["base"].startswith(f"<|im_start|>system\n{prompt.instruction}<|im_end|>")
    assert variants["base"].endswith("<|im_start|>assistant\n")


def test_training_renders_as_answering_renders(chat_tokenizer):
    row = {"instruction": PromptConfig().instruction, "input": QUESTION, "output": "Em 13 de maio de 1888."}
    record = training_record(row, template=PromptConfig().template, chat=True)
    assert record["prompt"] == messages(row["instruction"], QUESTION)
    trained = chat_tokenizer.apply_chat_template(record["prompt"], tokenize=False, add_generation_prompt=True)
    assert trained == render(chat_tokenizer, [QUESTION], prompt=PromptConfig(), chat=True)[0]
    plain = training_record(row, template=PromptConfig().template, chat=False)
    assert plain["prompt"] == render(chat_tokenizer, [QUESTION], prompt=PromptConfig(), chat=False)[0]
    assert plain["prompt"].endswith("### Resposta:\n") and plain["completion"] == row["output"]


def test_chat_template_choice(tmp_path, chat_tokenizer):
    build_tiny_model(tmp_path / "plain", chat_template=False)
    plain = load_model(tmp_path / "plain", device="cpu")[1]
    assert use_chat_template(chat_tokenizer) and not use_chat_template(plain)
    assert not use_chat_template(chat_tokenizer, False)
    with pytest.raises(ConfigError, match="chat_template"):
        use_chat_template(plain, True)
    assert render(plain, ["Oi"], prompt=PromptConfig(template="{instruction}|{input}", instruction="Seja breve."),
                  chat=False) == ["Seja breve.|Oi"]
