"""Extractive question answering: one forward pass over question + context, the best answer span."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task

MAX_ANSWER_TOKENS = 30
TOP_K = 20


def best_span(start: list[float], end: list[float], allowed: list[bool]) -> tuple[int, int, float]:
    """The best-scoring (start, end) with start <= end < start + MAX_ANSWER_TOKENS among allowed positions."""
    order_s = sorted((i for i in range(len(start)) if allowed[i]), key=lambda i: -start[i])[:TOP_K]
    order_e = sorted((i for i in range(len(end)) if allowed[i]), key=lambda i: -end[i])[:TOP_K]
    best = (0, 0, float("-inf"))
    for s in order_s:
        for e in order_e:
            if s <= e < s + MAX_ANSWER_TOKENS and start[s] + end[e] > best[2]:
                best = (s, e, start[s] + end[e])
    return best


class QuestionAnswering(Task):
    name: ClassVar[str] = "question-answering"
    aliases: ClassVar[tuple[str, ...]] = ("qa", "extractive-qa")
    description: ClassVar[str] = "find the answer span in a context (the study: SQuAD, SQuAD v2, SciQ)"
    fields: ClassVar[tuple[str, ...]] = ("question", "context")

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.tokenizer(
                [ex["question"] for ex in batch],
                [ex["context"] for ex in batch],
                truncation="only_second",
                padding=True,
                return_tensors="pt",
            )
            inputs = self.model_inputs(enc)
        with phase("forward"):
            out = self.backend.forward(inputs)
        with phase("postprocess"):
            answers = []
            starts, ends = out.start_logits.float().tolist(), out.end_logits.float().tolist()
            for row in range(len(batch)):
                seq = enc.sequence_ids(row)
                allowed = [s == 1 for s in seq]
                s, e, score = best_span(starts[row], ends[row], allowed)
                ids = enc["input_ids"][row][s : e + 1].tolist()
                answers.append(
                    {"answer": self.tokenizer.decode(ids, skip_special_tokens=True), "score": score}
                )
        return BatchResult(units=int(enc["attention_mask"].sum()), outputs=answers)
