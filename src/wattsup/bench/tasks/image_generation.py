"""Image generation (text-to-image) with latent diffusion, on the diffusers backend: seeded initial latents,
the prompt's conditioning, the denoising loop with classifier-free guidance, the VAE decode, the safety
checker where the pipeline has one. A pipeline without a UNet runs whole, in one ``denoise`` phase.

Needs diffusers (the ``diffusion`` extra).
"""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.backends.diffusers import (
    DIFFUSERS_MISSING,
    SD_BETAS,
    DiffusersBackend,
    build_components,
    count_pipeline_parameters,
    require_diffusers,
)
from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task
from wattsup.records.settings import AnySettings, DiffusionSettings


class ImageGeneration(Task):
    name: ClassVar[str] = "text-to-image"
    aliases: ClassVar[tuple[str, ...]] = ("image-generation", "tti", "diffusion")
    description: ClassVar[str] = (
        "generate an image from a prompt, 50 denoising steps (the study: DiffusionDB, "
        "ImageReward, Stable Diffusion Prompts)"
    )
    unit: ClassVar[str] = "image"
    backend_name: ClassVar[str] = "diffusers"
    Settings: ClassVar[type[AnySettings]] = DiffusionSettings

    @property
    def diffusers(self) -> DiffusersBackend:
        assert isinstance(self.backend, DiffusersBackend)
        return self.backend

    def prepare(self, src: Any) -> None:
        """Steps, guidance and image size: the run's settings, else the model's own defaults."""
        s = self.settings
        assert isinstance(s, DiffusionSettings)
        d = self.diffusers.defaults
        self.steps = int(s.num_inference_steps or d["num_inference_steps"])
        self.guidance = float(s.guidance_scale if s.guidance_scale is not None else d["guidance_scale"])
        self.image_size = int(s.image_size or d["image_size"])

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        import torch

        be = self.diffusers
        prompts = [str(ex["text"]) for ex in batch]
        if be.pipe is not None:
            with phase("denoise"):
                be.call(prompts, self.steps, self.guidance)
            return BatchResult(units=len(batch))
        b = len(prompts)
        with phase("preprocess"):
            gen = torch.Generator(device="cpu").manual_seed(self.config.seed)
            side = self.image_size // 8
            noise = torch.randn((b, be.latent_channels, side, side), generator=gen)
            inputs = be.preprocess({"latents": noise})
        with phase("text_encoder"):
            inputs |= be.encode(prompts, self.image_size)
        with phase("denoise"):
            latents = be.forward(inputs | {"steps": self.steps, "guidance": self.guidance})
        with phase("vae_decode"):
            image = be.decode(latents)
        with phase("postprocess"):
            arr = be.check(image)
        return BatchResult(units=b, outputs=[arr.shape])


__all__ = [
    "DIFFUSERS_MISSING",
    "SD_BETAS",
    "ImageGeneration",
    "build_components",
    "count_pipeline_parameters",
    "require_diffusers",
]
