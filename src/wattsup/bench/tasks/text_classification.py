"""Text classification (sentiment): one forward pass, softmax over the labels."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import TextLogitsTask


def label_names(config: Any, ids: list[int]) -> list[str]:
    id2label = getattr(config, "id2label", None) or {}
    return [str(id2label.get(i, f"LABEL_{i}")) for i in ids]


class TextClassification(TextLogitsTask):
    name: ClassVar[str] = "text-classification"
    aliases: ClassVar[tuple[str, ...]] = ("sentiment", "text_classif", "text-classif")
    description: ClassVar[str] = "label a text (the study: sentiment of IMDB, Rotten Tomatoes, SST-2)"

    def outputs(self, enc: Any, logits: Any) -> list[Any]:
        probs = logits.float().softmax(-1)
        best = probs.argmax(-1).tolist()
        scores = probs.max(-1).values.tolist()
        return [
            {"label": lab, "score": s}
            for lab, s in zip(label_names(self.model_config, best), scores, strict=True)
        ]
