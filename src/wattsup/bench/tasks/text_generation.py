"""Text generation with decoder-only models: a fixed number of new tokens after a prompt.

``text-generation`` follows the study (first words of a line as the prompt, 10 new tokens); ``chat`` is
chat-length generation (hundreds of new tokens) with the model's chat template where it has one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn


class TextGeneration(GenerativeTask):
    name: ClassVar[str] = "text-generation"
    aliases: ClassVar[tuple[str, ...]] = ("textgen", "text-gen", "causal-lm")
    description: ClassVar[str] = (
        "continue a prompt with 10 new tokens (the study: WikiText, BookCorpus, OSCAR)"
    )
    default_max_new_tokens: ClassVar[int | None] = 10
    decoder_only = True

    def prepare(self, src: ModelSource) -> None:
        super().prepare(src)
        self.tokenizer.padding_side = "left"  # batched generation continues every row from its last token
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def prompt(self, ex: dict[str, Any]) -> str:
        return str(ex["text"])

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.tokenize([self.prompt(ex) for ex in batch])
            inputs = self.model_inputs(enc)
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            n_in = int(inputs["input_ids"].shape[-1])
            texts = self.tokenizer.batch_decode(out[:, n_in:], skip_special_tokens=True)
        return BatchResult(units=self.new_tokens(out, n_in), excluded_s=excluded, outputs=texts)


class Chat(TextGeneration):
    name: ClassVar[str] = "chat"
    aliases: ClassVar[tuple[str, ...]] = ("chat-generation", "text-generation-chat", "assistant")
    description: ClassVar[str] = "answer a chat turn with 256 new tokens (beyond the study)"
    default_max_new_tokens: ClassVar[int | None] = 256
    in_study: ClassVar[bool] = False

    def prompt(self, ex: dict[str, Any]) -> str:
        text = str(ex["text"])
        if getattr(self.tokenizer, "chat_template", None):
            rendered = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
            )
            return str(rendered)
        return f"User: {text}\nAssistant:"
