"""Token classification (named entities): one forward pass, a label per token, grouped into entities."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import TextLogitsTask
from wattsup.bench.tasks.text_classification import label_names


def group_entities(labels: list[str], tokens: list[str]) -> list[dict[str, Any]]:
    """Consecutive tokens with the same non-``O`` entity type (B-/I- prefixes aside) form one entity."""
    entities: list[dict[str, Any]] = []
    for lab, tok in zip(labels, tokens, strict=True):
        kind = lab.split("-", 1)[-1] if lab not in ("O", "LABEL_0") else None
        if kind is None:
            continue
        if entities and entities[-1]["type"] == kind and not lab.startswith("B-"):
            entities[-1]["tokens"].append(tok)
        else:
            entities.append({"type": kind, "tokens": [tok]})
    return entities


class TokenClassification(TextLogitsTask):
    name: ClassVar[str] = "token-classification"
    aliases: ClassVar[tuple[str, ...]] = ("ner", "token_classif", "token-classif")
    description: ClassVar[str] = "label each token (the study: NER on ReCoRD, WikiANN, CoNLL-2003)"

    def outputs(self, enc: Any, logits: Any) -> list[Any]:
        ids = logits.argmax(-1).tolist()
        out = []
        for row, (pred, mask) in enumerate(zip(ids, enc["attention_mask"].tolist(), strict=True)):
            keep = [i for i, m in enumerate(mask) if m]
            toks = self.tokenizer.convert_ids_to_tokens([int(enc["input_ids"][row][i]) for i in keep])
            out.append(group_entities(label_names(self.model_config, [pred[i] for i in keep]), toks))
        return out
