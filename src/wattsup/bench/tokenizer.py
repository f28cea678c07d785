"""A working tokenizer with no download, for models built from the catalog with random weights.

It is a WordPiece tokenizer (built with the ``tokenizers`` library) over a packaged list of common English
words, with single characters and ``##`` continuation characters as fallback, so that English text costs about
one token per word, as with real subword vocabularies. Its ids are laid into the model's vocabulary around the
special ids the model's configuration names (pad, bos, eos, decoder start), so ``generate`` and the heads
see the ids they expect. It is labelled synthetic wherever a run is recorded.
"""

from __future__ import annotations

import functools
import json
import string
from importlib import resources
from typing import Any

from wattsup.errors import WattsupError

SYNTHETIC_TOKENIZER = "synthetic WordPiece (wattsup word list, no download)"
MIN_VOCAB = 160
CHARS = string.ascii_lowercase + string.digits + string.punctuation
ROBERTA_STYLE = {
    "roberta",
    "xlm-roberta",
    "bart",
    "led",
    "deberta",
    "camembert",
    "longformer",
    "mpnet",
    "blenderbot",
    "clip_text_model",
}
ABSOLUTE_OFFSET = {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet"}
BOS_PREFIXED = {"llama", "mistral", "opt", "gemma", "bart", "led"}
SEQ2SEQ = {"t5", "mt5", "bart", "led", "pegasus", "pegasus_x", "bigbird_pegasus", "marian", "whisper"}
ENCODERS = {
    "bert",
    "distilbert",
    "roberta",
    "xlm-roberta",
    "albert",
    "electra",
    "deberta",
    "deberta-v2",
    "mpnet",
    "camembert",
    "bertweet",
    "clip_text_model",
    "clip",
}


@functools.cache
def word_list() -> tuple[str, ...]:
    """The packaged word list, most frequent first."""
    raw = json.loads(resources.files("wattsup.data").joinpath("bench/words.json").read_text(encoding="utf-8"))
    return tuple(raw["words"])


def _special_ids(text_config: Any) -> dict[str, int | None]:
    def as_id(v: Any) -> int | None:
        if isinstance(v, list):
            return int(v[0]) if v else None
        return int(v) if isinstance(v, int) else None

    return {
        "pad": as_id(getattr(text_config, "pad_token_id", None)),
        "bos": as_id(getattr(text_config, "bos_token_id", None)),
        "eos": as_id(getattr(text_config, "eos_token_id", None)),
        "decoder_start": as_id(getattr(text_config, "decoder_start_token_id", None)),
    }


def synthetic_tokenizer(
    vocab_size: int, model_type: str, special_ids: dict[str, int | None], model_max_length: int = 512
) -> Any:
    """A ``PreTrainedTokenizerFast`` whose ids all lie below ``vocab_size`` and whose special tokens sit at
    ``special_ids`` (keys ``pad``, ``bos``, ``eos``, ``decoder_start``; ``None`` where it names none)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < MIN_VOCAB:
        raise WattsupError(
            f"a synthetic tokenizer needs a vocabulary of at least {MIN_VOCAB} ids; "
            f"this model has {vocab_size}"
        )
    vocab, role_token = _vocabulary(vocab_size, model_type, special_ids)
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token=role_token["unk"], max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        lowercase=True, clean_text=True, handle_chinese_chars=True, strip_accents=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    post = _post_processor(model_type, role_token, vocab)
    if post is not None:
        tok.post_processor = post
    fast_cls: Any = PreTrainedTokenizerFast  # untyped constructor
    fast = fast_cls(
        tokenizer_object=tok,
        unk_token=role_token["unk"],
        pad_token=role_token["pad"],
        cls_token=role_token["cls"],
        sep_token=role_token["sep"],
        mask_token=role_token["mask"],
        bos_token=role_token["bos"],
        eos_token=role_token["eos"],
        model_max_length=model_max_length,
    )
    fast.wattsup_synthetic = True
    return fast


def _vocabulary(
    vocab_size: int, model_type: str, special_ids: dict[str, int | None]
) -> tuple[dict[str, int], dict[str, str]]:
    """token → id below ``vocab_size`` (special tokens at the model's ids, then characters, word pieces
    and words), and role (``pad``, ``unk``, ``cls``, ...) → its token."""
    id_to_token: dict[int, str] = {}
    role_token: dict[str, str] = {}

    def place(role: str, wanted: int | None, name: str) -> None:
        if wanted is not None and 0 <= wanted < vocab_size:
            if wanted in id_to_token:
                role_token[role] = id_to_token[wanted]
            else:
                id_to_token[wanted] = name
                role_token[role] = name

    place("pad", special_ids.get("pad"), "[PAD]")
    place("bos", special_ids.get("bos"), "<s>")
    place("eos", special_ids.get("eos"), "</s>")
    place("decoder_start", special_ids.get("decoder_start"), "<start>")

    free = (i for i in range(vocab_size) if i not in id_to_token)

    def new(role: str, name: str) -> None:
        if role not in role_token:
            i = next(free)
            id_to_token[i] = name
            role_token[role] = name

    if model_type in ROBERTA_STYLE:  # <s> text </s>: cls is bos, sep is eos
        new("bos", "<s>")
        new("eos", "</s>")
        role_token.setdefault("cls", role_token["bos"])
        role_token.setdefault("sep", role_token["eos"])
    new("pad", "[PAD]")
    new("unk", "[UNK]")
    new("cls", "[CLS]")
    new("sep", "[SEP]")
    new("mask", "[MASK]")
    new("bos", role_token.get("cls", "<s>"))
    new("eos", role_token.get("sep", "</s>"))

    pieces = [c for c in CHARS] + ["##" + c for c in CHARS]
    room = vocab_size - len(id_to_token) - len(pieces)
    words = [w for w in word_list() if w not in pieces][: max(room, 0)]
    for piece in pieces + words:
        try:
            id_to_token[next(free)] = piece
        except StopIteration:
            break
    vocab = {
        tok: i for i, tok in sorted(id_to_token.items(), reverse=True)
    }  # lowest id wins for shared names
    return vocab, role_token


def _post_processor(model_type: str, role_token: dict[str, str], vocab: dict[str, int]) -> Any:
    """The special tokens around a sequence, as the model's family places them (None: none)."""
    from tokenizers import processors

    cls, sep, bos, eos = role_token["cls"], role_token["sep"], role_token["bos"], role_token["eos"]
    if model_type in ENCODERS:
        return processors.TemplateProcessing(
            single=f"{cls} $A {sep}",
            pair=f"{cls} $A {sep} $B {sep}",
            special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])],
        )
    if model_type in SEQ2SEQ and model_type != "whisper":
        prefix = f"{bos} " if model_type in BOS_PREFIXED else ""
        specials = [(eos, vocab[eos])] + ([(bos, vocab[bos])] if prefix else [])
        return processors.TemplateProcessing(
            single=f"{prefix}$A {eos}", pair=f"{prefix}$A {eos} $B {eos}", special_tokens=specials
        )
    if model_type in BOS_PREFIXED:
        return processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, vocab[bos])]
        )
    return None


def max_length_of(text_config: Any, model_type: str) -> int:
    """The longest input the model accepts, as its pipeline would truncate to."""
    for key in (
        "max_encoder_position_embeddings",
        "max_position_embeddings",
        "n_positions",
        "max_source_positions",
    ):
        v = getattr(text_config, key, None)
        if isinstance(v, int) and v > 0:
            if model_type in ABSOLUTE_OFFSET and v > 2:
                return min(v - 2, 100_000)  # roberta-style position ids are offset by the padding index
            return min(v, 100_000)
    return 512  # relative-position models (T5): the conventional limit


def for_config(config: Any, model_type: str) -> Any:
    """The synthetic tokenizer that fits a transformers configuration (its text or decoder part)."""
    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    vocab = getattr(text, "vocab_size", None)
    if not isinstance(vocab, int):
        raise WattsupError(
            f"the {model_type} configuration names no vocabulary size; "
            "cannot build a synthetic tokenizer for it"
        )
    ids = _special_ids(text)
    top = _special_ids(config)
    for k, v in top.items():  # encoder-decoder pairs keep decoder_start on the top-level config
        if ids.get(k) is None:
            ids[k] = v
    text_type = str(getattr(text, "model_type", model_type))
    return synthetic_tokenizer(vocab, text_type, ids, max_length_of(text, text_type))
