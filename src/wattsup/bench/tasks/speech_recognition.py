"""Automatic speech recognition with Whisper-style encoder-decoders: log-mel features, a fixed-length
transcript (30 new tokens: a LibriSpeech utterance's length)."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn, float_inputs


class SpeechRecognition(GenerativeTask):
    name: ClassVar[str] = "automatic-speech-recognition"
    aliases: ClassVar[tuple[str, ...]] = ("asr", "speech-recognition", "transcription")
    description: ClassVar[str] = "transcribe speech in 30 tokens (beyond the study; AI Energy Score task)"
    fields: ClassVar[tuple[str, ...]] = ("audio",)
    default_max_new_tokens: ClassVar[int | None] = 30
    in_study: ClassVar[bool] = False

    def prepare(self, src: ModelSource) -> None:
        from wattsup.bench import models as mdl

        self.tokenizer, note = mdl.load_tokenizer(
            src, self.model_config, self.model_type, synthetic=self.extra("tokenizer") == "synthetic"
        )
        self.provenance["tokenizer"] = note
        if src.weights == "random":
            from transformers import WhisperFeatureExtractor

            extractor: Any = WhisperFeatureExtractor
            self.features = extractor(feature_size=int(self.model_config.num_mel_bins))
            self.provenance["processor"] = "WhisperFeatureExtractor defaults sized to the model (no download)"
        else:
            from transformers import AutoFeatureExtractor

            location = str(src.path) if src.path is not None else src.spec
            try:
                loader: Any = AutoFeatureExtractor
                self.features = loader.from_pretrained(location)
            except Exception as e:
                raise mdl._pretrained_error(src, "feature extractor", e) from e
            self.provenance["processor"] = "the model's own feature extractor"

    def generation_config(self) -> Any:
        gc = super().generation_config()
        if self.source is not None and self.source.weights == "random":
            # a catalog Whisper has none of the checkpoint's language/task tables: plain decoding from start
            for key in ("forced_decoder_ids", "suppress_tokens", "begin_suppress_tokens"):
                setattr(gc, key, None)
        return gc

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.features(
                [ex["audio"] for ex in batch],
                sampling_rate=int(batch[0].get("sampling_rate", 16000)),
                return_tensors="pt",
                return_attention_mask=True,
            )
            inputs = float_inputs(self.model_inputs(enc), self.dtype)
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return BatchResult(units=self.max_new_tokens * len(batch), excluded_s=excluded, outputs=texts)
