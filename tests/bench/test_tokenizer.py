"""The synthetic offline tokenizer: ids inside the model's vocabulary, special ids where the config says."""

from __future__ import annotations

import pytest

from wattsup.bench import tokenizer as tk
from wattsup.bench.catalog import build_config, load_catalog
from wattsup.errors import WattsupError


@pytest.mark.parametrize(
    "name",
    [
        "gpt2",
        "roberta-base",
        "google/flan-t5-base",
        "bert-base-uncased",
        "facebook/bart-large-cnn",
        "tiny/vit-gpt2-captioner",
        "tiny/whisper",
    ],
)
def test_ids_fit_the_model_and_specials_sit_at_config_ids(name: str) -> None:
    entry = load_catalog().get(name)
    config = build_config(entry)
    tok = tk.for_config(config, entry.model_type)
    text_cfg = config.get_text_config(decoder=True)
    ids = tok("The best movie I have seen this year, truly wonderful!")["input_ids"]
    assert max(ids) < text_cfg.vocab_size
    for role in ("pad", "eos"):
        want = getattr(text_cfg, f"{role}_token_id", None)
        if isinstance(want, int):
            assert getattr(tok, f"{role}_token_id") == want
    assert tok.mask_token_id is not None and tok.mask_token_id < text_cfg.vocab_size
    assert tok.wattsup_synthetic is True


def test_common_words_are_one_token_and_decode_back() -> None:
    tok = tk.synthetic_tokenizer(1000, "gpt2", {"pad": None, "bos": 999, "eos": 999})
    ids = tok("the movie was wonderful")["input_ids"]
    assert len(ids) == 4
    assert tok.decode(ids) == "the movie was wonderful"
    assert len(tok("zyx")["input_ids"]) == 3  # unknown words fall back to characters


def test_encoder_template_and_pairs() -> None:
    tok = tk.synthetic_tokenizer(2000, "bert", {"pad": 0, "bos": None, "eos": None})
    enc = tok("who won", "the team won the game")
    toks = tok.convert_ids_to_tokens(enc["input_ids"])
    assert toks[0] == "[CLS]" and toks.count("[SEP]") == 2
    assert enc.sequence_ids(0)[-2] == 1


def test_same_inputs_same_tokenizer() -> None:
    a = tk.synthetic_tokenizer(5000, "llama", {"bos": 1, "eos": 2, "pad": None})
    b = tk.synthetic_tokenizer(5000, "llama", {"bos": 1, "eos": 2, "pad": None})
    assert a.get_vocab() == b.get_vocab()
    assert a("hello there")["input_ids"][0] == 1  # llama-style: bos first


def test_too_small_a_vocabulary_is_refused() -> None:
    with pytest.raises(WattsupError, match="at least"):
        tk.synthetic_tokenizer(50, "gpt2", {})
