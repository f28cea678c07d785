"""Image captioning (image-to-text): encode the image, generate a fixed-length caption (20 new tokens, the
``max_length`` default of the study's pipelines)."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn, decode_image


class ImageCaptioning(GenerativeTask):
    name: ClassVar[str] = "image-to-text"
    aliases: ClassVar[tuple[str, ...]] = ("image-captioning", "captioning", "itt")
    description: ClassVar[str] = "caption an image in 20 tokens (the study: Visual Genome, RedCaps, COCO)"
    fields: ClassVar[tuple[str, ...]] = ("image",)
    default_max_new_tokens: ClassVar[int | None] = 20

    def prepare(self, src: ModelSource) -> None:
        self.tokenizer = self.hf.load_tokenizer(src)
        self.decoder_only = self.model_type == "git"
        self.full_processor: Any = self.hf.load_processor(src)
        if self.full_processor is None:  # random weights, or a model without a processor class
            self.processor = self.hf.load_image_processor(src)

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            images = [decode_image(ex["image"]) for ex in batch]
            if self.full_processor is not None:
                enc = self.full_processor(images=images, return_tensors="pt")
            else:
                enc = self.processor(images=images, return_tensors="pt")
            inputs = self.model_inputs(enc)
            n_in = int(inputs["input_ids"].shape[-1]) if "input_ids" in inputs else 0
            if self.decoder_only and n_in == 0:
                n_in = 1  # GIT starts from its bos token
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return BatchResult(units=self.new_tokens(out, n_in), excluded_s=excluded, outputs=texts)
