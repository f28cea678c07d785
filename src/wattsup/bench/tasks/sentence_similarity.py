"""Sentence similarity: embed both sentences (mean pooling, as sentence-transformers), cosine similarity."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task


class SentenceSimilarity(Task):
    name: ClassVar[str] = "sentence-similarity"
    aliases: ClassVar[tuple[str, ...]] = ("embeddings", "sentence-embeddings", "similarity")
    description: ClassVar[str] = (
        "embed two sentences and compare them (beyond the study; AI Energy Score task)"
    )
    fields: ClassVar[tuple[str, ...]] = ("text", "text_pair")
    in_study: ClassVar[bool] = False

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            texts = [ex["text"] for ex in batch] + [ex["text_pair"] for ex in batch]
            enc = self.tokenize(texts)
            inputs = self.model_inputs(enc)
        with phase("forward"):
            hidden = self.backend.forward(inputs).last_hidden_state
        with phase("postprocess"):
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            emb = emb.float()
            emb = emb / emb.norm(dim=-1, keepdim=True).clamp(min=1e-12)
            n = len(batch)
            sims = (emb[:n] * emb[n:]).sum(-1).tolist()
        return BatchResult(units=int(enc["attention_mask"].sum()), outputs=sims)
