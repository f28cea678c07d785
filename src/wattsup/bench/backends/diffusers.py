"""The diffusers backend: latent diffusion pipelines (Stable Diffusion, SDXL) for text-to-image.

Needs diffusers (the ``diffusion`` extra). Random weights build the UNet, VAE, text encoder(s) and safety
checker from the catalog's component configurations; pretrained weights load the pipeline and run its
components through the same calls (a pipeline without a UNet runs whole, through :meth:`call`).
The calls, in a scenario's order: :meth:`preprocess` (the initial latents), :meth:`encode`,
:meth:`forward` (the denoising loop with classifier-free guidance), :meth:`decode` (the VAE),
:meth:`check` (the safety checker).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from wattsup.bench import models as mdl
from wattsup.bench import tokenizer as tk
from wattsup.bench.backends.base import BackendSettings, TorchBackend
from wattsup.bench.catalog import CatalogEntry
from wattsup.bench.models import ModelSource
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
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 7.5
DEFAULT_IMAGE_SIZE = 512


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


class DiffusersSettings(BackendSettings):
    """The diffusers backend's settings: device and dtype (none of its own yet)."""


class DiffusersBackend(TorchBackend[DiffusersSettings]):
    """A latent diffusion pipeline's components on one device in one dtype, in eval mode."""

    name: ClassVar[str] = "diffusers"
    Settings: ClassVar[type[DiffusersSettings]] = DiffusersSettings

    def __init__(self, settings: DiffusersSettings) -> None:
        super().__init__(settings)
        self.pipe: Any = None
        """A pipeline of another shape (Würstchen: no UNet), run whole by :meth:`call`."""
        self.components: dict[str, Any] = {}
        self.scheduler: Any = None
        self.tokenizers: list[Any] = []
        self.defaults: dict[str, Any] = {}
        """The model's own steps, guidance and image size (catalog entry or pipeline), or diffusers'."""

    def load(self, source: ModelSource, task: str) -> None:
        require_diffusers()
        defaults: dict[str, Any] = {
            "num_inference_steps": DEFAULT_STEPS,
            "guidance_scale": DEFAULT_GUIDANCE,
            "image_size": DEFAULT_IMAGE_SIZE,
        }
        if source.weights == "random":
            if source.entry is None or not source.entry.is_diffusion:
                raise WattsupError(f"{source.name} is not a diffusion pipeline")
            cfg = source.entry.config
            comps = build_components(source.entry, device=self.device, dtype=self.dtype)
            self.scheduler = _scheduler(require_diffusers(), cfg.get("scheduler", "pndm"))
            for key in defaults:
                if key in cfg:
                    defaults[key] = cfg[key]
            self.tokenizers = [tk.for_config(comps["text_encoder"].config, "clip_text_model")]
            if "text_encoder_2" in comps:
                self.tokenizers.append(tk.for_config(comps["text_encoder_2"].config, "clip_text_model"))
            self.provenance["tokenizer"] = tk.SYNTHETIC_TOKENIZER
        else:
            diffusers = require_diffusers()
            location = str(source.path) if source.path is not None else source.spec
            try:
                pipe = diffusers.DiffusionPipeline.from_pretrained(location, torch_dtype=self.dtype)
            except Exception as e:
                raise mdl.pretrained_error(source, "pipeline", e) from e
            pipe = pipe.to(self.device)
            if not hasattr(pipe, "unet"):
                self.pipe = pipe
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
                defaults["image_size"] = int(pipe.unet.config.sample_size * pipe.vae_scale_factor)
            self.provenance["tokenizer"] = "the pipeline's own tokenizer(s)"
        self.provenance["weights"] = mdl.weights_source(source)
        self.defaults = defaults
        self.components = comps
        for m in comps.values():
            m.eval()
        vae = comps.get("vae")
        if (
            vae is not None
            and getattr(vae.config, "force_upcast", False)
            and str(self.dtype) == "torch.float16"
        ):
            import torch

            vae.to(dtype=torch.float32)
        self.provenance["parameters"] = str(self.num_parameters())
        self.model = comps.get("unet", self.pipe)

    def num_parameters(self) -> int:
        modules: list[Any] = list(self.components.values())
        if self.pipe is not None:  # a pipeline run whole: all of its torch modules
            modules = [m for m in self.pipe.components.values() if hasattr(m, "parameters")]
        return int(sum(p.numel() for m in modules for p in m.parameters()))

    # ------------------------------------------------------------------ calls
    def call(self, prompts: list[str], steps: int, guidance: float) -> Any:
        """The whole pipeline (one without a UNet)."""
        return self.pipe(prompts, num_inference_steps=steps, guidance_scale=guidance)

    @property
    def latent_channels(self) -> int:
        return int(self.components["unet"].config.in_channels)

    def preprocess(self, encoded: Mapping[str, Any]) -> dict[str, Any]:
        """Tensors (the initial latents) to the device, floating ones in the dtype."""
        out: dict[str, Any] = {}
        for k, v in encoded.items():
            if hasattr(v, "is_floating_point") and v.is_floating_point():
                out[k] = v.to(self.device, self.dtype)
            else:
                out[k] = v.to(self.device) if hasattr(v, "to") else v
        return out

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

    def encode(self, prompts: list[str], image_size: int) -> dict[str, Any]:
        """The text encoders' conditioning for classifier-free guidance: unconditional and conditional
        embeddings stacked (and SDXL's pooled embeddings and size ids)."""
        import torch

        b = len(prompts)
        cond, pooled = self._encode(prompts)
        uncond, upooled = self._encode([""] * b)
        emb = torch.cat([uncond, cond])
        added: dict[str, Any] | None = None
        if pooled is not None and upooled is not None:
            s = image_size
            time_ids = torch.tensor([[s, s, 0, 0, s, s]] * (2 * b), device=self.device, dtype=emb.dtype)
            added = {"text_embeds": torch.cat([upooled, pooled]), "time_ids": time_ids}
        return {"encoder_hidden_states": emb, "added_cond_kwargs": added}

    def forward(self, inputs: dict[str, Any]) -> Any:
        """The denoising loop: ``inputs`` holds ``latents``, ``steps``, ``guidance`` and :meth:`encode`'s
        conditioning; returns the denoised latents."""
        import torch

        unet = self.components["unet"]
        latents, steps, guidance = inputs["latents"], int(inputs["steps"]), float(inputs["guidance"])
        emb, added = inputs["encoder_hidden_states"], inputs["added_cond_kwargs"]
        self.scheduler.set_timesteps(steps, device=self.device)
        latents = latents * self.scheduler.init_noise_sigma
        for t in self.scheduler.timesteps:
            x = self.scheduler.scale_model_input(torch.cat([latents, latents]), t)
            noise = unet(x, t, encoder_hidden_states=emb, added_cond_kwargs=added).sample
            u, c = noise.chunk(2)
            latents = self.scheduler.step(u + guidance * (c - u), t, latents).prev_sample
        return latents

    def decode(self, latents: Any) -> Any:
        """The VAE's image from the latents."""
        vae = self.components["vae"]
        return vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample

    def check(self, image: Any) -> Any:
        """The image as an array in [0, 1], through the safety checker where the pipeline has one."""
        import torch

        arr = (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
        checker = self.components.get("safety_checker")
        if checker is not None:
            clip_in = torch.nn.functional.interpolate(image.float(), size=(224, 224), mode="bilinear")
            arr, _ = checker(images=arr, clip_input=clip_in.to(self.device, checker.dtype))
        return arr
