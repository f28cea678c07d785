"""Image generation (text-to-image) with latent diffusion: encode the prompt, run the denoising loop with
classifier-free guidance, decode the latents, run the safety checker where the pipeline has one.

Needs diffusers (the ``diffusion`` extra). Random weights build the UNet, VAE, text encoder(s) and safety
checker from the catalog's component configurations; pretrained weights load the pipeline and run its
components through the same metered loop (a pipeline without a UNet runs whole, in one phase).
"""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.catalog import CatalogEntry
from wattsup.bench.tasks.base import BatchResult, PhaseFn, Task
from wattsup.errors import WattsupError

DIFFUSERS_MISSING = (
    "image generation needs diffusers, which is not installed here: "
    "pip install 'wattsup[diffusion]' (the 'diffusion' extra)"
)
SD_BETAS = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
}


def require_diffusers() -> Any:
    """The diffusers module, or a clear error naming the ``diffusion`` extra."""
    try:
        import diffusers
    except ImportError as e:
        raise WattsupError(DIFFUSERS_MISSING) from e
    return diffusers


def _scheduler(diffusers: Any, name: str) -> Any:
    if name == "ddim":
        return diffusers.DDIMScheduler(**SD_BETAS, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    if name == "euler":
        return diffusers.EulerDiscreteScheduler(**SD_BETAS, steps_offset=1, timestep_spacing="leading")
    return diffusers.PNDMScheduler(**SD_BETAS, skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1)


def _clip_text_config(spec: dict[str, Any]) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(**{k: v for k, v in spec.items() if k != "model_type"})


def build_components(entry: CatalogEntry, device: Any = "cpu", dtype: Any = None) -> dict[str, Any]:
    """The pipeline's modules with random weights, built on ``device`` (``"meta"`` to count them)."""
    import torch
    from transformers import CLIPConfig, CLIPTextModel, CLIPTextModelWithProjection

    diffusers = require_diffusers()
    cfg = entry.config
    out: dict[str, Any] = {}
    with torch.device(device):
        out["unet"] = diffusers.UNet2DConditionModel(**cfg["unet"])
        out["vae"] = diffusers.AutoencoderKL(**cfg["vae"])
        out["text_encoder"] = CLIPTextModel(_clip_text_config(cfg["text_encoder"]))
        if cfg.get("text_encoder_2"):
            out["text_encoder_2"] = CLIPTextModelWithProjection(_clip_text_config(cfg["text_encoder_2"]))
        if cfg.get("safety_checker"):
            from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker

            sc = dict(cfg["safety_checker"])
            sc.pop("model_type", None)
            out["safety_checker"] = StableDiffusionSafetyChecker(CLIPConfig(**sc))
    if dtype is not None and str(device) != "meta":
        for k, m in out.items():
            out[k] = m.to(dtype=dtype)
    return out


def count_pipeline_parameters(entry: CatalogEntry) -> int:
    """Parameters of all the pipeline's modules (the study counted the whole pipeline)."""
    comps = build_components(entry, device="meta")
    return int(sum(p.numel() for m in comps.values() for p in m.parameters()))


class ImageGeneration(Task):
    name: ClassVar[str] = "text-to-image"
    aliases: ClassVar[tuple[str, ...]] = ("image-generation", "tti", "diffusion")
    description: ClassVar[str] = (
        "generate an image from a prompt, 50 denoising steps (the study: DiffusionDB, "
        "ImageReward, Stable Diffusion Prompts)"
    )
    unit: ClassVar[str] = "image"

    def load(self) -> None:
        from wattsup.bench import models as mdl

        require_diffusers()
        src = mdl.resolve_model_source(self.config.model, self.name, self.config.weights)
        self.source = src
        self.pipe: Any = None
        if src.weights == "random":
            assert src.entry is not None
            if not src.entry.is_diffusion:
                raise WattsupError(f"{src.entry.id} is not a diffusion pipeline")
            cfg = src.entry.config
            comps = build_components(src.entry, device=self.device, dtype=self.dtype)
            self.scheduler = _scheduler(require_diffusers(), cfg.get("scheduler", "pndm"))
            self.steps = int(self.extra("num_inference_steps", cfg.get("num_inference_steps", 50)))
            self.guidance = float(self.extra("guidance_scale", cfg.get("guidance_scale", 7.5)))
            self.image_size = int(self.extra("image_size", cfg.get("image_size", 512)))
            from wattsup.bench import tokenizer as tk

            self.tokenizers = [tk.for_config(comps["text_encoder"].config, "clip_text_model")]
            if "text_encoder_2" in comps:
                self.tokenizers.append(tk.for_config(comps["text_encoder_2"].config, "clip_text_model"))
            self.provenance["tokenizer"] = tk.SYNTHETIC_TOKENIZER
            self.provenance["weights"] = mdl.weights_source(src)
        else:
            diffusers = require_diffusers()
            location = str(src.path) if src.path is not None else src.spec
            try:
                pipe = diffusers.DiffusionPipeline.from_pretrained(location, torch_dtype=self.dtype)
            except Exception as e:
                raise mdl._pretrained_error(src, "pipeline", e) from e
            pipe = pipe.to(self.device)
            self.steps = int(self.extra("num_inference_steps", 50))
            self.guidance = float(self.extra("guidance_scale", 7.5))
            if not hasattr(pipe, "unet"):
                self.pipe = pipe  # a pipeline of another shape (Wuerstchen): run it whole
                comps = {}
            else:
                comps = {
                    k: getattr(pipe, k)
                    for k in ("unet", "vae", "text_encoder", "text_encoder_2", "safety_checker")
                    if getattr(pipe, k, None) is not None
                }
                self.scheduler = pipe.scheduler
                self.tokenizers = [pipe.tokenizer] + (
                    [pipe.tokenizer_2] if getattr(pipe, "tokenizer_2", None) else []
                )
                self.image_size = int(pipe.unet.config.sample_size * pipe.vae_scale_factor)
                self.feature_extractor = getattr(pipe, "feature_extractor", None)
            self.provenance["weights"] = mdl.weights_source(src)
            self.provenance["tokenizer"] = "the pipeline's own tokenizer(s)"
        self.components = comps
        for m in comps.values():
            m.eval()
        vae = comps.get("vae")
        if (
            vae is not None
            and getattr(vae.config, "force_upcast", False)
            and str(self.dtype) == "torch.float16"
        ):
            vae.to(dtype=__import__("torch").float32)
        self.provenance["parameters"] = str(sum(p.numel() for m in comps.values() for p in m.parameters()))
        self.model = comps.get("unet", self.pipe)

    def _encode(self, prompts: list[str]) -> tuple[Any, Any]:
        import torch

        tes = [self.components["text_encoder"]] + (
            [self.components["text_encoder_2"]] if "text_encoder_2" in self.components else []
        )
        embeds, pooled = [], None
        for tok, te in zip(self.tokenizers, tes, strict=True):
            ids = tok(
                prompts,
                padding="max_length",
                max_length=tok.model_max_length,
                truncation=True,
                return_tensors="pt",
            ).input_ids.to(self.device)
            out = te(ids, output_hidden_states=len(tes) > 1)
            if len(tes) > 1:  # SDXL: penultimate hidden states of both encoders, pooled output of the second
                embeds.append(out.hidden_states[-2])
                if hasattr(out, "text_embeds"):
                    pooled = out.text_embeds
            else:
                embeds.append(out.last_hidden_state)
        return torch.cat(embeds, dim=-1), pooled

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        import torch

        prompts = [str(ex["text"]) for ex in batch]
        if self.pipe is not None:
            with phase("denoise"):
                self.pipe(prompts, num_inference_steps=self.steps, guidance_scale=self.guidance)
            return BatchResult(units=len(batch))
        b = len(prompts)
        with phase("preprocess"):
            gen = torch.Generator(device="cpu").manual_seed(self.config.seed)
            side = self.image_size // 8
            latents = torch.randn((b, self.components["unet"].config.in_channels, side, side), generator=gen)
            latents = latents.to(self.device, self.dtype)
        with phase("text_encoder"):
            cond, pooled = self._encode(prompts)
            uncond, upooled = self._encode([""] * b)
            emb = torch.cat([uncond, cond])
            added: dict[str, Any] | None = None
            if pooled is not None and upooled is not None:
                s = self.image_size
                time_ids = torch.tensor([[s, s, 0, 0, s, s]] * (2 * b), device=self.device, dtype=emb.dtype)
                added = {"text_embeds": torch.cat([upooled, pooled]), "time_ids": time_ids}
        unet = self.components["unet"]
        with phase("denoise"):
            self.scheduler.set_timesteps(self.steps, device=self.device)
            latents = latents * self.scheduler.init_noise_sigma
            for t in self.scheduler.timesteps:
                x = self.scheduler.scale_model_input(torch.cat([latents, latents]), t)
                noise = unet(x, t, encoder_hidden_states=emb, added_cond_kwargs=added).sample
                u, c = noise.chunk(2)
                latents = self.scheduler.step(u + self.guidance * (c - u), t, latents).prev_sample
        vae = self.components["vae"]
        with phase("vae_decode"):
            image = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample
        with phase("postprocess"):
            arr = (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
            checker = self.components.get("safety_checker")
            if checker is not None:
                clip_in = torch.nn.functional.interpolate(image.float(), size=(224, 224), mode="bilinear")
                arr, _ = checker(images=arr, clip_input=clip_in.to(self.device, checker.dtype))
        return BatchResult(units=b, outputs=[arr.shape])
