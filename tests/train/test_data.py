"""lhama.train.data and the trainer's batches: the loss is on the answer tokens only, and no compute goes to
padding (one flat sequence per batch, positions restarting at each example)."""

from lhama.prompts import training_record
from lhama.train.trainer import build_trainer
from training_data import rows, small_config


def test_loss_only_on_answer_tokens_and_no_padding(tiny_model_dir, data, tmp_path):
    train_file, eval_file = data
    run = build_trainer(small_config(), tiny_model_dir, train_file, eval_file, tmp_path / "work",
                        template="{instruction}\n{input}\n")
    tokenizer, trainer = run.tokenizer, run.trainer
    assert run.use_chat and trainer.padding_free
    for example, row in zip(trainer.train_dataset, rows()):
        prompt = training_record(row, template="", chat=True)["prompt"]
        prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
        if hasattr(prompt_ids, "keys"):  # transformers 5 returns a BatchEncoding
            prompt_ids = prompt_ids["input_ids"]
        labels, ids = example["labels"], example["input_ids"]
        assert ids[:len(prompt_ids)] == list(prompt_ids)
        assert all(label == -100 for label in labels[:len(prompt_ids)])  # the prompt is never a target
        answer = [label for label in labels if label != -100]
        assert answer == ids[len(prompt_ids):]
        assert tokenizer.decode(answer).startswith(row["output"])
        assert tokenizer.eos_token in tokenizer.decode(answer)  # the model learns to stop
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch  # one flat sequence, no mask
    starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist()  # positions restart at each example
    assert len(starts) == 4
    examples = [example["input_ids"] for example in trainer.train_dataset]
    bounds = [*starts, batch["input_ids"].shape[1]]
    for begin, end in zip(bounds, bounds[1:]):
        assert batch["input_ids"][0, begin:end].tolist() in examples  # whole examples, not one pad position


def test_max_length_cuts_examples_and_drops_those_without_an_answer(tiny_model_dir, data, tmp_path):
    train_file, eval_file = data
    template = "{instruction}\n{input}\n"
    full = build_trainer(small_config(), tiny_model_dir, train_file, eval_file, tmp_path / "full", template=template)
    answer_starts = sorted(example["labels"].index(next(label for label in example["labels"] if label != -100))
                           for example in full.trainer.train_dataset)
    cut = answer_starts[len(answer_starts) // 2] + 1  # half the examples keep one answer token, half keep none
    run = build_trainer(small_config(max_length=cut), tiny_model_dir, train_file, eval_file, tmp_path / "cut",
                        template=template)
    kept = run.trainer.train_dataset
    assert 0 < len(kept) < len(full.trainer.train_dataset)
    assert all(len(example["input_ids"]) <= cut for example in kept)
    assert all(any(label != -100 for label in example["labels"]) for example in kept)
