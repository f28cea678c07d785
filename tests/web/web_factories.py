"""Run records for the dashboard tests, built with the store's own types (RunRecord and friends).

A small study: four tasks on three kinds of hardware, task-specific and multi-purpose (zero-shot)
models, pretrained and random weights, measured and partly modelled energy, two datasets per task,
a failed run, a run that kept its power timeline, and a model whose id is an HTML injection attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
A100 = "NVIDIA A100-SXM4-80GB"
H100 = "NVIDIA H100 80GB HBM3"
EPYC = "AMD EPYC 9454 48-Core Processor"
EVIL = "<script>alert(1)</script>"
"""A model id that must render as text, never run."""
INFERENCES = 100


@dataclass(frozen=True)
class Model:
    task: str
    name: str
    kwh_per_1k: float
    n_params: int | None
    hardware: str = A100
    mode: str = "task-specific"
    weights: str = "pretrained"
    modeled: bool = False


MODELS: tuple[Model, ...] = (
    # text classification on A100: six task-specific models and two multi-purpose ones
    Model("text-classification", "distilbert-base-uncased-finetuned-sst-2-english", 0.0021, 66_955_010),
    Model("text-classification", "cardiffnlp/twitter-roberta-base-sentiment", 0.0034, 124_647_939),
    Model("text-classification", "nlptown/bert-base-multilingual-uncased-sentiment", 0.0041, 167_360_261),
    Model("text-classification", "SamLowe/roberta-base-go_emotions", 0.0038, 124_667_164, modeled=True),
    Model("text-classification", "j-hartmann/emotion-english-distilroberta-base", 0.0025, 82_123_783),
    Model("text-classification", EVIL, 0.0052, None, weights="random"),
    Model("text-classification", "google/flan-t5-base", 0.0094, 247_577_856, mode="zero-shot"),
    Model("text-classification", "bigscience/bloomz-560m", 0.0171, 559_214_592, mode="zero-shot"),
    # summarisation on A100
    Model("summarization", "sshleifer/distilbart-cnn-12-6", 0.061, 305_510_400),
    Model("summarization", "facebook/bart-large-cnn", 0.083, 406_290_432),
    Model("summarization", "philschmid/bart-large-cnn-samsum", 0.079, 406_290_432),
    Model("summarization", "google/pegasus-xsum", 0.121, 569_748_480),
    Model("summarization", "t5-small", 0.029, 60_506_624, weights="random"),
    Model("summarization", "google/flan-t5-large", 0.212, 783_150_080, mode="zero-shot"),
    # image classification on H100
    Model("image-classification", "google/vit-base-patch16-224", 0.0062, 86_567_656, hardware=H100),
    Model("image-classification", "microsoft/resnet-50", 0.0048, 25_557_032, hardware=H100),
    Model("image-classification", "facebook/convnext-large-224", 0.0117, 197_767_336, hardware=H100),
    Model("image-classification", "microsoft/beit-base-patch16-224", 0.0073, 86_530_984, hardware=H100),
    Model("image-classification", "nateraw/vit-age-classifier", 0.0066, 85_800_963, hardware=H100),
    # text generation on a CPU, with modelled CPU and RAM
    Model("text-generation", "HuggingFaceTB/SmolLM2-135M", 0.41, 134_515_008, hardware=EPYC, modeled=True),
    Model("text-generation", "Qwen/Qwen2.5-0.5B", 1.37, 494_032_768, hardware=EPYC, modeled=True),
    Model("text-generation", "gpt2", 0.52, 124_439_808, hardware=EPYC, modeled=True),
)
DATASETS = {
    "text-classification": ("imdb", "rotten_tomatoes"),
    "summarization": ("samsum", "xsum"),
    "image-classification": ("cifar10", "imagenet-1k"),
    "text-generation": ("wikitext", "oscar"),
}
RUNS_PER_DATASET = 2
TIMELINE_MODEL = "microsoft/resnet-50"


def _components(energy_j: float, *, gpu: bool, modeled: bool) -> list[ComponentEnergy]:
    if gpu:
        parts = [("gpu:0", 0.8, "counter"), ("cpu", 0.15, "counter"), ("dram", 0.05, "counter")]
        if modeled:
            parts = [("gpu:0", 0.8, "counter"), ("cpu", 0.15, "counter"), ("ram", 0.05, "modeled")]
    else:
        parts = [("cpu", 0.9, "modeled" if modeled else "counter"), ("ram", 0.1, "modeled")]
    return [
        ComponentEnergy(name=name, energy_j=energy_j * share, method=method, error_bound_j=energy_j * 0.01)  # type: ignore[arg-type]
        for name, share, method in parts
    ]


def _window(energy_j: float, duration_s: float, *, gpu: bool, modeled: bool, timeline: bool) -> Measurement:
    pre = Measurement(
        name="preprocess",
        start_s=100.0,
        duration_s=duration_s * 0.1,
        components=_components(energy_j * 0.05, gpu=gpu, modeled=modeled),
    )
    query = Measurement(
        name="query model",
        start_s=100.0 + duration_s * 0.1,
        duration_s=duration_s * 0.9,
        components=_components(energy_j * 0.95, gpu=gpu, modeled=modeled),
    )
    points = None
    if timeline:
        # cumulative joules every 0.1 s: idle, a ramp, then steady work
        steps = max(4, int(duration_s / 0.1))
        power = [80.0 if k < 2 else 300.0 + 40.0 * (k % 3) for k in range(steps)]
        cumulative, t, acc = [(100.0, 0.0)], 100.0, 0.0
        for p in power:
            t += duration_s / steps
            acc += p * duration_s / steps
            cumulative.append((t, acc))
        points = {"gpu:0": cumulative, "cpu": [(a, b * 0.15) for a, b in cumulative]}
    return Measurement(
        start_s=100.0,
        duration_s=duration_s,
        components=_components(energy_j, gpu=gpu, modeled=modeled),
        phases=[pre, query],
        timeline=points,
    )


def record(m: Model, dataset: str, k: int, *, seq: int) -> RunRecord:
    """One run of ``m`` on ``dataset`` (the ``k``-th): energy near the model's figure, varying by run."""
    gpu = m.hardware != EPYC
    scale = (
        1.0 + 0.04 * ((k + len(dataset)) % 3 - 1) + (0.03 if dataset.endswith(("b", "m", "k", "r")) else 0)
    )
    kwh = m.kwh_per_1k * scale
    energy_j = kwh * JOULES_PER_KWH / 1000.0 * INFERENCES
    timeline = m.name == TIMELINE_MODEL and k == 0
    reps = [
        Repetition(
            index=r,
            measurement=_window(
                energy_j * (1 + 0.01 * r), 2.0 + r * 0.1, gpu=gpu, modeled=m.modeled, timeline=timeline
            ),
            inferences=INFERENCES,
            latencies_s=[0.02, 0.021],
            output_units=INFERENCES * 10 if m.task in ("text-generation", "summarization") else None,
        )
        for r in range(2)
    ]
    started = T0 + timedelta(minutes=seq)
    return RunRecord(
        run_id=f"{seq:04d}" + hashlib.sha1(f"{m.name}|{dataset}|{k}".encode()).hexdigest()[:12],
        config=RunConfig(
            task=m.task,
            model=m.name,
            dataset=dataset,
            n=INFERENCES,
            reps=2,
            device="cuda:0" if gpu else "cpu",
            mode=m.mode,  # type: ignore[arg-type]
            weights=m.weights,  # type: ignore[arg-type]
            seed=k,
        ),
        started_at=started,
        finished_at=started + timedelta(seconds=40),
        load=_window(energy_j * 0.3, 1.5, gpu=gpu, modeled=m.modeled, timeline=False),
        repetitions=reps,
        provenance=Provenance(
            hostname="bench-01",
            os="Linux 6.8",
            python="3.11.9",
            cpu_model=EPYC,
            cpu_count=96,
            ram_gb=512.0,
            gpus=[m.hardware] if gpu else [],
            gpu_driver="550.54" if gpu else None,
            cuda="12.4" if gpu else None,
            libraries={"torch": "2.13.0", "transformers": "4.50.0"},
            sensors={"gpu:0": "counter (nvml)", "cpu": "counter (rapl)"} if gpu else {"cpu": "modeled"},
            weights_source=f"hub {m.name}@main" if m.weights == "pretrained" else "random (catalog config)",
            input_source=f"hub {dataset} test[:100]",
            wattsup_version="0.1.0",
        ),
        n_params=m.n_params,
    )


def study_records() -> Iterator[RunRecord]:
    """Every run of the study, plus one failed run."""
    seq = 0
    for m in MODELS:
        for dataset in DATASETS[m.task]:
            for k in range(RUNS_PER_DATASET):
                seq += 1
                yield record(m, dataset, k, seq=seq)
    failed = record(MODELS[0], "imdb", 9, seq=seq + 1)
    yield failed.model_copy(
        update={"status": "failed", "error": "CUDA out of memory", "repetitions": [], "load": None}
    )


def run_id_of(model: str, dataset: str | None = None, k: int = 0) -> str:
    """The id of the ``k``-th run of ``model`` (on ``dataset``, else its task's first dataset)."""
    seq = 0
    for m in MODELS:
        for ds in DATASETS[m.task]:
            for j in range(RUNS_PER_DATASET):
                seq += 1
                if m.name == model and j == k and (dataset is None or ds == dataset):
                    return record(m, ds, j, seq=seq).run_id
    raise KeyError(model)


def bulk_records(n: int) -> Iterator[RunRecord]:
    """``n`` runs for the load test: the study's models over many seeds (one repetition each, so the
    store fills fast)."""
    models = MODELS
    for i in range(n):
        m = models[i % len(models)]
        datasets = DATASETS[m.task]
        rec = record(m, datasets[i % len(datasets)], i, seq=i + 1)
        yield rec.model_copy(update={"run_id": f"bulk{i:012d}", "repetitions": rec.repetitions[:1]})
