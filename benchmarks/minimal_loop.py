"""The minimal hand-written text-classification loop that the harness-overhead benchmarks compare the
benchmark harness with: tokenise one text, move it to the device, call the model, and build the same
label/score outputs as wattsup's text-classification task. No phases, no bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def classify(tok: Any, net: Any, texts: Iterable[str], device: str) -> None:
    id2label = getattr(net.config, "id2label", None) or {}
    for t in texts:
        enc = tok([t], truncation=True, padding=True, return_tensors="pt").to(device)
        logits = net(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        probs = logits.float().softmax(-1)
        best, scores = probs.argmax(-1).tolist(), probs.max(-1).values.tolist()
        [{"label": id2label.get(i, f"LABEL_{i}"), "score": sc} for i, sc in zip(best, scores, strict=True)]
