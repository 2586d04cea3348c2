"""Training rows and configs shared by the training tests (a run takes seconds on the tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

from lhama.config.loading import parse
from lhama.config.sections import TrainConfig

CAPITALS = [("Brasil", "Brasília"), ("Portugal", "Lisboa"), ("Argentina", "Buenos Aires"), ("Chile", "Santiago"),
            ("Peru", "Lima"), ("Uruguai", "Montevidéu"), ("Paraguai", "Assunção"), ("Bolívia", "Sucre"),
            ("Colômbia", "Bogotá"), ("Equador", "Quito"), ("Venezuela", "Caracas"), ("Angola", "Luanda")]
INSTRUCTION = "Responda à pergunta em português, de forma correta e concisa."


def rows() -> list[dict]:
    return [{"instruction": INSTRUCTION, "input": f"Qual é a capital de {country}?",
             "output": f"A capital de {country} é {capital}.", "answers": [capital], "source_id": number,
             "source_title": country} for number, (country, capital) in enumerate(CAPITALS)]


def write_data(folder: Path) -> tuple[Path, Path]:
    train_file, eval_file = folder / "train.jsonl", folder / "test.jsonl"
    train_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows()), encoding="utf-8")
    eval_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows()[:4]), encoding="utf-8")
    return train_file, eval_file


def small_config(method: str = "lora", **args) -> TrainConfig:
    settings = {"max_steps": 4, "per_device_train_batch_size": 4, "learning_rate": 5e-3, "save_steps": 100,
                "eval_strategy": "no", "logging_steps": 1, "max_length": 128, "bf16": "auto", "seed": 0,
                "report_to": "none", **args}
    return parse(TrainConfig, {"method": method, "lora": {"r": 8, "lora_alpha": 16,
                                                          "target_modules": ["q_proj", "v_proj"]},
                               "args": settings}, "train")
