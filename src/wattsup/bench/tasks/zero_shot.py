"""Multi-purpose (zero-shot) mode: Flan-T5- and BLOOMz-style models doing text classification, extractive QA
and summarisation through the study's prompt templates, with the answer mapped back to the task's output.

The templates are those of the study's code (github.com/sashavor/co2_inference, ``code/zeroshot/``); the
paper prints them slightly differently (e.g. "Summarize the following text: [text]. Summary:").
"""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn

TEMPLATES: dict[str, str] = {
    "text-classification": "what is the binary sentiment of the following sentence? {text}",
    "question-answering": (
        '{question}? Find the answer to the question in the following text: "{context}". Answer:'
    ),
    "summarization": "summarize the following text: {text}",
}
NEW_TOKENS: dict[str, int] = {"text-classification": 1, "question-answering": 10, "summarization": 15}
FIELDS: dict[str, tuple[str, ...]] = {
    "text-classification": ("text",),
    "question-answering": ("question", "context"),
    "summarization": ("text",),
}


def build_prompt(task: str, ex: dict[str, Any]) -> str:
    return TEMPLATES[task].format(**{k: ex[k] for k in FIELDS[task]})


def map_answer(task: str, generated: str) -> Any:
    """The task's output from the generated text: a sentiment label, an answer string, or a summary."""
    text = generated.strip()
    if task == "text-classification":
        low = text.lower()
        if "pos" in low:
            return {"label": "positive"}
        if "neg" in low:
            return {"label": "negative"}
        return {"label": "unknown", "generated": text}
    if task == "question-answering":
        return {"answer": text.split("\n")[0].strip(' ".')}
    return {"summary_text": text}


class ZeroShot(GenerativeTask):
    """Wraps one of the three tasks; ``name`` is that task's (see :func:`zero_shot_task`)."""

    name: ClassVar[str] = "zero-shot"
    description: ClassVar[str] = "a multi-purpose model prompted for the task"
    target: ClassVar[str] = "text-classification"

    @property
    def model_task(self) -> str:
        return self.target

    def prepare(self, src: ModelSource) -> None:
        super().prepare(src)
        self.decoder_only = not bool(getattr(self.model_config, "is_encoder_decoder", False))
        if self.decoder_only:
            self.tokenizer.padding_side = "left"
            if self.tokenizer.pad_token is None:
                self.tokenizer.pad_token = self.tokenizer.eos_token

    def load_model(self, src: ModelSource) -> None:
        self.hf.load(src, self.model_task, self.auto_class_for)

    def auto_class_for(self, config: Any) -> str:
        return (
            "AutoModelForSeq2SeqLM"
            if getattr(config, "is_encoder_decoder", False)
            else "AutoModelForCausalLM"
        )

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.tokenize([build_prompt(self.target, ex) for ex in batch])
            inputs = self.model_inputs(enc)
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            n_in = int(inputs["input_ids"].shape[-1]) if self.decoder_only else 0
            texts = self.tokenizer.batch_decode(out[:, n_in:], skip_special_tokens=True)
            answers = [map_answer(self.target, t) for t in texts]
        return BatchResult(units=self.new_tokens(out, n_in), excluded_s=excluded, outputs=answers)


def zero_shot_task(target: str) -> type[ZeroShot]:
    """The zero-shot task class for ``target`` (one of the three tasks the study prompted)."""
    return type(
        f"ZeroShot_{target.replace('-', '_')}",
        (ZeroShot,),
        {
            "name": target,
            "target": target,
            "fields": FIELDS[target],
            "default_max_new_tokens": NEW_TOKENS[target],
            "description": f"{target} by prompting a multi-purpose model",
        },
    )
