"""Automatic speech recognition with Whisper-style encoder-decoders: log-mel features, a fixed-length
transcript (30 new tokens: a LibriSpeech utterance's length)."""

from __future__ import annotations

from typing import Any, ClassVar

from wattsup.bench.models import ModelSource
from wattsup.bench.tasks.base import BatchResult, GenerativeTask, PhaseFn


class SpeechRecognition(GenerativeTask):
    name: ClassVar[str] = "automatic-speech-recognition"
    aliases: ClassVar[tuple[str, ...]] = ("asr", "speech-recognition", "transcription")
    description: ClassVar[str] = "transcribe speech in 30 tokens (beyond the study; AI Energy Score task)"
    fields: ClassVar[tuple[str, ...]] = ("audio",)
    default_max_new_tokens: ClassVar[int | None] = 30
    in_study: ClassVar[bool] = False

    def prepare(self, src: ModelSource) -> None:
        self.tokenizer = self.hf.load_tokenizer(src)
        self.features = self.hf.load_feature_extractor(src)

    def generation_overrides(self) -> dict[str, Any]:
        if self.source is not None and self.source.weights == "random":
            # a catalog Whisper has none of the checkpoint's language/task tables: plain decoding from start
            return dict.fromkeys(("forced_decoder_ids", "suppress_tokens", "begin_suppress_tokens"))
        return {}

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.features(
                [ex["audio"] for ex in batch],
                sampling_rate=int(batch[0].get("sampling_rate", 16000)),
                return_tensors="pt",
                return_attention_mask=True,
            )
            inputs = self.model_inputs(enc)
        out, excluded = self.generate(inputs, phase)
        with phase("postprocess"):
            texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
        return BatchResult(units=self.max_new_tokens * len(batch), excluded_s=excluded, outputs=texts)
