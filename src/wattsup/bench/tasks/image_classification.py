"""Image classification: decode, resize and normalise the image, one forward pass, top-5 labels."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task, decode_image
from wattsup.bench.tasks.text_classification import label_names

TOP_K = 5


class VisionTask(Task):
    fields: ClassVar[tuple[str, ...]] = ("image",)
    unit: ClassVar[str] = "image"

    def prepare(self, src: ModelSource) -> None:
        self.processor = self.hf.load_image_processor(src)

    def pixels(self, batch: list[dict[str, Any]]) -> tuple[list[Any], dict[str, Any]]:
        images = [decode_image(ex["image"]) for ex in batch]
        enc = self.processor(images=images, return_tensors="pt")
        return images, self.model_inputs(enc)


class ImageClassification(VisionTask):
    name: ClassVar[str] = "image-classification"
    aliases: ClassVar[tuple[str, ...]] = ("image_class", "image-class")
    description: ClassVar[str] = "label an image (the study: CIFAR-10, CIFAR-100, ImageNet-1k)"

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            _, inputs = self.pixels(batch)
        with phase("forward"):
            logits = self.backend.forward(inputs).logits
        with phase("postprocess"):
            top = logits.float().softmax(-1).topk(min(TOP_K, logits.shape[-1]))
            out = [
                list(zip(label_names(self.model_config, idx), sc, strict=True))
                for idx, sc in zip(top.indices.tolist(), top.values.tolist(), strict=True)
            ]
        return BatchResult(units=len(batch), outputs=out)
