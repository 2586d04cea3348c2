"""A tiny random Llama (2 layers, width 64) with a BPE tokenizer trained here on a few Portuguese sentences: for
generation and command-line tests that need a model in seconds and nothing else."""

from __future__ import annotations

import torch

SENTENCES = [
    "O Brasil é o maior país da América do Sul.",
    "A capital do Brasil é Brasília, inaugurada em 1960.",
    "Pedro Álvares Cabral chegou ao Brasil em 1500.",
    "A independência do Brasil foi proclamada em 7 de setembro de 1822.",
    "Dom Pedro II foi o segundo e último imperador do Brasil.",
    "O rio Amazonas atravessa a floresta amazônica.",
    "São Paulo é a cidade mais populosa do país.",
    "A língua oficial do Brasil é o português.",
    "Qual a capital do Brasil? Quem descobriu o Brasil? Onde fica São Paulo?",
]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
# different token lengths, so batches need padding
QUESTIONS = [
    "Qual a capital do Brasil?",
    "Quem foi Dom Pedro II, o segundo e último imperador do Brasil?",
    "Rio?",
    "Onde fica São Paulo, a cidade mais populosa do país?",
    "Quando o Brasil ficou independente?",
    "O que é a floresta amazônica?",
    "Brasília",
    "Quem chegou ao Brasil em 1500, e onde?",
]


def build_tiny_model(folder, *, chat_template: bool = True, seed: int = 0) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    raw.train_from_iterator(SENTENCES, trainer)
    # no pad token on purpose: load_model must fall back to eos
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>")
    if chat_template:
        tokenizer.chat_template = CHATML
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None, pad_token_id=None,
                         initializer_range=0.2, tie_word_embeddings=False)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
