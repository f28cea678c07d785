"""Masked language modelling: the last word of the text is masked (as the study did), top-5 fillers."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task
from wattsup.errors import InvalidInput

TOP_K = 5


def mask_last_word(text: str, mask: str) -> str:
    words = text.split()
    if not words:
        return mask
    words[-1] = mask
    return " ".join(words)


class FillMask(Task):
    name: ClassVar[str] = "fill-mask"
    aliases: ClassVar[tuple[str, ...]] = ("masked-lm", "mlm", "fillmask")
    description: ClassVar[str] = "predict a masked word (the study: BookCorpus, C4, OSCAR)"

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        mask = self.tokenizer.mask_token
        if mask is None:
            raise InvalidInput(
                "model", f"{self.config.model}'s tokenizer has no mask token; it cannot fill masks"
            )
        with phase("preprocess"):
            enc = self.tokenize([mask_last_word(ex["text"], mask) for ex in batch])
            inputs = self.model_inputs(enc)
        with phase("forward"):
            logits = self.backend.forward(inputs).logits
        with phase("postprocess"):
            out = []
            positions = (enc["input_ids"] == self.tokenizer.mask_token_id).nonzero().tolist()
            for row, pos in positions:
                top = logits[row, pos].float().softmax(-1).topk(TOP_K)
                words = self.tokenizer.convert_ids_to_tokens(top.indices.tolist())
                out.append(list(zip(words, top.values.tolist(), strict=True)))
        return BatchResult(units=int(enc["attention_mask"].sum()), outputs=out)
