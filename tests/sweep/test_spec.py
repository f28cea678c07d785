"""Sweep files: the matrix they declare, exclusions, and errors that name the key and the line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.processes import ROOT
from wattsup.bench import make_config
from wattsup.sweep import SweepFileError, expand_text


def problems(text: str) -> list[str]:
    with pytest.raises(SweepFileError) as info:
        expand_text(textwrap.dedent(text), "s.yaml")
    return [p.render("s.yaml") for p in info.value.problems]


def test_axes_multiply_and_scalars_count_as_one_value() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            tasks: text-classification
            models: [tiny/bert-classifier]
            datasets: [imdb, sst2]
            batch_sizes: [1, 4]
            dtypes: [float32, bfloat16]
            reps: 1
            weights: random
            n: 3
            """
        )
    )
    assert len(e.configs) == 8 and e.combinations == 8
    assert {(c.dataset, c.batch_size, c.dtype) for c in e.configs} == {
        (d, b, t) for d in ("imdb", "sst2") for b in (1, 4) for t in ("float32", "bfloat16")
    }
    assert all(c.reps == 1 and c.n == 3 and c.weights == "random" for c in e.configs)


def test_configurations_are_normalised_as_the_harness_does() -> None:
    e = expand_text("tasks: qa\nmodels: tiny/distilbert-qa\nweights: random\nn: 3\nreps: 1\n")
    (cfg,) = e.configs
    assert cfg.task == "question-answering" and cfg.dataset  # alias resolved, default dataset filled in
    same = make_config("qa", "tiny/distilbert-qa", weights="random", n=3, reps=1)
    assert cfg.config_hash() == same.config_hash()  # a sweep resumes what 'wattsup bench' stored


def test_blocks_take_top_level_defaults_and_override_them() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            weights: random
            n: 3
            reps: 2
            matrix:
              - tasks: text-classification
                models: tiny/bert-classifier
                datasets: imdb
              - tasks: text-generation
                models: tiny/gpt2
                datasets: wikitext
                reps: [1, 5]
                n: 7
            """
        )
    )
    assert [(c.task, c.reps, c.n) for c in e.configs] == [
        ("text-classification", 2, 3),
        ("text-generation", 1, 7),
        ("text-generation", 5, 7),
    ]


def test_exclusions_remove_matching_configurations_globs_and_aliases_included() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            weights: random
            batch_sizes: [1, 8]
            matrix:
              - tasks: [text-classification]
                models: [tiny/bert-classifier]
                datasets: [imdb, sst2]
              - tasks: qa
                models: tiny/distilbert-qa
                datasets: [squad, sciq]
            exclude:
              - task: qa
                batch_size: 8
              - model: "tiny/bert-*"
                dataset: sst2
            """
        )
    )
    got = {(c.task, c.dataset, c.batch_size) for c in e.configs}
    assert got == {
        ("text-classification", "imdb", 1),
        ("text-classification", "imdb", 8),
        ("question-answering", "squad", 1),
        ("question-answering", "sciq", 1),
    }
    assert e.excluded == 4 and e.combinations == 8 and e.warnings == []


def test_an_exclusion_can_remove_combinations_that_would_not_validate() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            tasks: [text-classification, text-generation]
            models: [tiny/bert-classifier, tiny/gpt2]
            weights: random
            exclude:
              - {task: text-classification, model: tiny/gpt2}
              - {task: text-generation, model: tiny/bert-classifier}
            """
        )
    )
    assert {(c.task, c.model) for c in e.configs} == {
        ("text-classification", "tiny/bert-classifier"),
        ("text-generation", "tiny/gpt2"),
    }


def test_an_exclusion_that_matches_nothing_is_a_warning_with_its_line() -> None:
    e = expand_text(
        "tasks: text-classification\nmodels: tiny/bert-classifier\nweights: random\n"
        "exclude:\n  - model: tiny/bert-clasifier\n",
        "s.yaml",
    )
    assert len(e.configs) == 1
    assert e.warnings == ["s.yaml:5: exclude[0] matches no configuration (a typo?)"]


def test_duplicates_across_blocks_run_once() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            weights: random
            matrix:
              - {tasks: text-classification, models: tiny/bert-classifier, datasets: [imdb, sst2]}
              - {tasks: sentiment, models: tiny/bert-classifier, datasets: imdb}
            """
        )
    )
    assert len(e.configs) == 2 and e.duplicates == 1


def test_unknown_key_names_line_and_close_key() -> None:
    (p,) = problems(
        """\
        tasks: text-classification
        models: tiny/bert-classifier
        batch_size: 4
        """
    )
    assert p.startswith("s.yaml:3: batch_size: unknown key 'batch_size'; did you mean 'batch_sizes'?")


def test_bad_values_name_the_item_and_its_line() -> None:
    out = problems(
        """\
        tasks: text-classification
        models: tiny/bert-classifier
        batch_sizes:
          - 1
          - 0
        dtypes: [float32, fp16]
        n: -3
        """
    )
    assert out[0] == "s.yaml:3: batch_sizes: every value must be at least 1, got 0"
    assert out[1].startswith("s.yaml:6: dtypes[1]: Input should be 'float32', 'float16' or 'bfloat16'")
    assert "(got 'fp16')" in out[1]
    assert out[2].startswith("s.yaml:7: n: Input should be greater than or equal to 1 (got -3)")


def test_unknown_model_lists_close_matches_at_its_line() -> None:
    (p,) = problems(
        """\
        tasks: text-classification
        weights: random
        models:
          - tiny/bert-classifier
          - tiny/bert-clasifier
        """
    )
    assert p.startswith("s.yaml:5: models[1]: unknown model 'tiny/bert-clasifier'; did you mean")
    assert "'tiny/bert-classifier'" in p


def test_unknown_task_and_dataset_and_misfit_model_are_all_reported_at_once() -> None:
    out = problems(
        """\
        weights: random
        matrix:
          - tasks: [text-clasification]
            models: tiny/bert-classifier
          - tasks: image-classification
            models: tiny/bert-classifier
          - tasks: text-classification
            models: tiny/bert-classifier
            datasets: [imdb, imbd]
        """
    )
    assert len(out) == 3
    assert out[0].startswith("s.yaml:3: matrix[0].tasks[0]: unknown task 'text-clasification'")
    assert "did you mean 'text-classification'" in out[0]
    assert out[1].startswith(
        "s.yaml:6: matrix[1].models: tiny/bert-classifier is a text-classification model"
    )
    assert out[2].startswith("s.yaml:9: matrix[2].datasets[1]: unknown dataset 'imbd'; did you mean 'imdb'")


def test_a_block_without_models_says_so() -> None:
    (p,) = problems("matrix:\n  - tasks: text-classification\n")
    assert p == "s.yaml:2: matrix[0]: no 'models' in matrix[0] or at the top level: say what to run"


def test_exclusion_errors() -> None:
    out = problems(
        """\
        tasks: text-classification
        models: tiny/bert-classifier
        exclude:
          - {}
          - modle: x
          - task: not-a-task
        """
    )
    assert out[0].startswith("s.yaml:4: exclude[0]: an exclusion needs at least one key")
    assert out[1].startswith("s.yaml:5: exclude[1].modle: unknown key 'modle'; did you mean")
    assert "'model'" in out[1]
    assert len(out) == 2  # the unknown task is checked once the file's shape is right
    (p,) = problems("tasks: text-classification\nmodels: tiny/bert-classifier\nexclude:\n  - task: nope\n")
    assert p.startswith("s.yaml:4: exclude[0].task: unknown task 'nope'")


def test_yaml_syntax_error_has_its_line() -> None:
    (p,) = problems("tasks: text-classification\nmodels: [tiny/bert-classifier\nn: 3\n")
    assert p.startswith("s.yaml:3: not valid YAML")


def test_duplicate_keys_are_refused() -> None:
    (p,) = problems("tasks: text-classification\nmodels: a\nmodels: tiny/bert-classifier\n")
    assert p == "s.yaml:3: models: duplicate key (first given on line 2)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- tasks: text-classification\n", "a sweep file is a mapping of keys"),
    ],
)
def test_empty_or_wrongly_shaped_files(text: str, message: str) -> None:
    (p,) = problems(text)
    assert message in p


def test_ray_options_and_retries_are_checked() -> None:
    out = problems(
        "tasks: text-classification\nmodels: tiny/bert-classifier\nretries: 11\n"
        "ray:\n  gpus_per_run: 0.5\n  cpu_per_run: 2\n"
    )
    assert out[0].startswith("s.yaml:3: retries: Input should be less than or equal to 10")
    assert out[1].startswith("s.yaml:5: ray.gpus_per_run: Input should be a valid integer")
    assert out[2].startswith(
        "s.yaml:6: ray.cpu_per_run: unknown key 'cpu_per_run'; did you mean 'cpus_per_run'"
    )


def test_the_examples_expand() -> None:

    from wattsup.sweep import load_sweep

    root = ROOT / "examples" / "sweeps"
    files = sorted(root.glob("*.yaml"))
    assert files
    for f in files:
        e = load_sweep(f)
        assert e.configs and not e.warnings, f


# -- files built to exhaust memory (issue 15, item 2) ------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    (msg,) = problems(BILLION_LAUGHS)
    assert msg.startswith("s.yaml:1: its aliases (*name) expand to more than 100,000 values")


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    (msg,) = problems("models: &m [tiny/bert-classifier, *m]\ntasks: text-classification\n")
    assert "its aliases (*name) expand to more than" in msg


def test_modest_aliases_still_work() -> None:
    e = expand_text(
        textwrap.dedent(
            """
            models: &m [tiny/bert-classifier]
            tasks: text-classification
            weights: random
            matrix:
              - {models: *m, batch_sizes: [1, 2]}
              - {models: *m, batch_sizes: [4]}
            """
        )
    )
    assert sorted(c.batch_size for c in e.configs) == [1, 2, 4]


def test_a_file_nested_thousands_deep_is_refused_in_one_line() -> None:
    (msg,) = problems("models: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "nested too deeply" in msg or "not valid YAML" in msg


def test_a_matrix_beyond_the_limit_is_refused_naming_the_limit_and_the_flag() -> None:
    text = textwrap.dedent(
        """
        tasks: text-classification
        models: [tiny/bert-classifier]
        weights: random
        batch_sizes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        reps: [1, 2, 3]
        """
    )
    with pytest.raises(SweepFileError) as info:
        expand_text(text, "s.yaml", max_configs=299)
    (p,) = info.value.problems
    assert "multiplies out to 300 configurations, more than the limit of 299" in p.message
    assert "--max-configs N" in p.message
    assert len(expand_text(text, "s.yaml", max_configs=300).configs) == 300


def test_the_default_limit_refuses_millions_at_once() -> None:
    values = ", ".join(str(i) for i in range(1, 201))
    text = (
        "tasks: text-classification\nmodels: [tiny/bert-classifier]\n"
        f"batch_sizes: [{values}]\nseeds: [{values}]\nreps: [{values}]\n"
    )
    (msg,) = problems(text)
    assert "8,000,000 configurations, more than the limit of 100,000" in msg


def test_sweep_cli_takes_max_configs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wattsup.cli import main

    f = tmp_path / "s.yaml"
    f.write_text(
        "tasks: text-classification\nmodels: [tiny/bert-classifier]\nweights: random\nseeds: [0, 1, 2]\n"
    )
    db = str(tmp_path / "r.db")
    assert main(["sweep", str(f), "--dry-run", "--max-configs", "2", "--db", db]) == 2
    assert "more than the limit of 2" in capsys.readouterr().err
    assert main(["sweep", str(f), "--dry-run", "--max-configs", "3", "--db", db]) == 0
    assert "(no store there yet)" in capsys.readouterr().out
    assert not (tmp_path / "r.db").exists()  # a dry run reads: it never creates the store


def test_a_setting_the_run_does_not_take_is_reported_at_its_block_even_after_a_good_one() -> None:
    out = problems(
        """\
        weights: random
        matrix:
          - tasks: summarization
            models: tiny/bart-summarizer
            extra: {num_beams: 2}
          - tasks: summarization
            models: tiny/bart-summarizer
            extra: {num_beam: 2}
        """
    )
    assert len(out) == 1
    assert out[0].startswith("s.yaml:8: matrix[1].extra: summarization on the transformers backend takes no")
    assert "setting 'num_beam'; it takes: attn_implementation, columns, num_beams" in out[0]
