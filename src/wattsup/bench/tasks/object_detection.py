"""Object detection: decode and resize the image, one forward pass, boxes above a score threshold."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.tasks.base import BatchResult, PhaseFn
from wattsup.bench.tasks.image_classification import VisionTask

THRESHOLD = 0.9  # the object-detection pipeline's default


class ObjectDetection(VisionTask):
    name: ClassVar[str] = "object-detection"
    aliases: ClassVar[tuple[str, ...]] = ("detection", "obj_detection", "obj-detection")
    description: ClassVar[str] = "find and label objects (the study: Visual Genome, CPPE-5, COCO)"

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            images, inputs = self.pixels(batch)
        with phase("forward"):
            out = self.backend.forward(inputs)
        with phase("postprocess"):
            out.logits = out.logits.float()
            out.pred_boxes = out.pred_boxes.float()
            sizes = [(im.height, im.width) for im in images]
            found = self.processor.post_process_object_detection(out, threshold=THRESHOLD, target_sizes=sizes)
            results = [{"boxes": r["boxes"].tolist(), "labels": r["labels"].tolist()} for r in found]
        return BatchResult(units=len(batch), outputs=results)
