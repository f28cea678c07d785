"""Image captioning (image-to-text): encode the image, generate a fixed-length caption (20 new tokens, the
``max_length`` default of the study's pipelines)."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench import models as mdl
from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn, decode_image, float_inputs


class ImageCaptioning(GenerativeTask):
    name: ClassVar[str] = "image-to-text"
    aliases: ClassVar[tuple[str, ...]] = ("image-captioning", "captioning", "itt")
    description: ClassVar[str] = "caption an image in 20 tokens (the study: Visual Genome, RedCaps, COCO)"
    fields: ClassVar[tuple[str, ...]] = ("image",)
    default_max_new_tokens: ClassVar[int | None] = 20

    def prepare(self, src: ModelSource) -> None:
        self.tokenizer, note = mdl.load_tokenizer(
            src, self.model_config, self.model_type, synthetic=self.extra("tokenizer") == "synthetic"
        )
        self.provenance["tokenizer"] = note
        self.decoder_only = self.model_type == "git"
        self.full_processor: Any = None
        if src.weights == "pretrained":
            from transformers import AutoProcessor

            location = str(src.path) if src.path is not None else src.spec
            try:
                loader: Any = AutoProcessor
                self.full_processor = loader.from_pretrained(location)
                self.provenance["processor"] = (
                    f"the model's own processor ({type(self.full_processor).__name__})"
                )
                return
            except Exception:  # models without a processor class fall back to the image processor alone
                self.full_processor = None
        self.processor, pnote = mdl.load_image_processor(src, self.model_config, self.model_type)
        self.provenance["processor"] = pnote

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            images = [decode_image(ex["image"]) for ex in batch]
            if self.full_processor is not None:
                enc = self.full_processor(images=images, return_tensors="pt")
            else:
                enc = self.processor(images=images, return_tensors="pt")
            inputs = float_inputs(self.model_inputs(enc), self.dtype)
            n_in = int(inputs["input_ids"].shape[-1]) if "input_ids" in inputs else 0
            if self.decoder_only and n_in == 0:
                n_in = 1  # GIT starts from its bos token
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return BatchResult(units=self.new_tokens(out, n_in), excluded_s=excluded, outputs=texts)
