"""Summarisation with encoder-decoder models: 15 new tokens (the study's ``_15`` runs)."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn


class Summarization(GenerativeTask):
    name: ClassVar[str] = "summarization"
    aliases: ClassVar[tuple[str, ...]] = ("summarisation", "summarize", "summarise")
    description: ClassVar[str] = "summarise a document in 15 tokens (the study: SAMSum, CNN/DailyMail, XSum)"
    default_max_new_tokens: ClassVar[int | None] = 15

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.tokenize([ex["text"] for ex in batch])
            inputs = self.model_inputs(enc)
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return BatchResult(units=self.new_tokens(out, 0), excluded_s=excluded, outputs=texts)
