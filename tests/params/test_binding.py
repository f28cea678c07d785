"""Parameters declared once (issue 16): a field of a parameter model is a command-line option and a
query parameter of the dashboard, checked by the model's own constraints, with errors that name the
flag or the parameter. ``network_share`` is the design test: a footprint field added in the model and
used by the computation, with no other edit."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wattsup.analysis import Metric, Selection
from wattsup.carbon import FootprintInput, footprint
from wattsup.cli import main
from wattsup.errors import InvalidInput
from wattsup.params import flag_of
from wattsup.results import Store
from wattsup.web import create_app
from wattsup.web.params import lifecycle_params, metric_params, selection_params


def test_every_offered_footprint_field_is_an_option_and_a_query_parameter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["footprint", "--help"]) == 0
    helptext = capsys.readouterr().out
    query = set(inspect.signature(lifecycle_params).parameters)
    for name, info in FootprintInput.model_fields.items():
        if (info.json_schema_extra or {}).get("cli") is False:  # type: ignore[union-attr]
            continue
        assert flag_of(FootprintInput, name) in helptext, name
        assert name in query, name


def test_selection_and_metric_parameters_come_from_their_models() -> None:
    assert set(inspect.signature(selection_params).parameters) >= {"task", "model", "mode", "since"}
    assert set(inspect.signature(metric_params).parameters) == {"phase", "component"}
    with pytest.raises(InvalidInput, match="--mode"):
        Selection(mode="few-shot")
    with pytest.raises(InvalidInput, match="--component"):
        Metric(component="disk")  # type: ignore[arg-type]
    assert Selection(task=["a", "b"]).task == ("a", "b")  # hashable: the dashboard's memo keys on it
    hash(Selection(task=["a"]))


@pytest.mark.parametrize(
    ("value", "message"), [("-0.1", "at least 0"), ("1.5", "at most 1"), ("nan", "finite")]
)
def test_a_bad_value_names_the_flag(value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["footprint", "--energy-kwh", "10", "--region", "FR", "--network-share", value])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("wattsup: error: --network-share: ") and message in err


def test_network_share_adds_to_the_it_energy_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    base = footprint(FootprintInput(training_kwh=100, region="FR"))
    more = footprint(FootprintInput(training_kwh=100, region="FR", network_share=0.1))
    assert more.operational_kgco2e == pytest.approx(base.operational_kgco2e * 1.1)
    assert any("--network-share" in n for n in more.assumptions.notes)
    code = main(["footprint", "--energy-kwh", "100", "--region", "FR", "--network-share", "0.1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["operational_kgco2e"] == pytest.approx(more.operational_kgco2e)


def test_the_api_checks_a_new_field_by_its_declaration(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "empty.db")) as store:
        client = TestClient(create_app(store, allowed_hosts=("testserver",)))
        r = client.get("/api/lifecycle", params={"network_share": "2"})
    assert r.status_code == 422
    assert "network_share" in r.json()["message"]
