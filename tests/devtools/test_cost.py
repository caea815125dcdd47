"""devtools.cost: the configured deployment's monthly cost beside the seed design."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import cost


def test_the_estimate_prints_every_service_for_both_designs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When the estimate runs for dev, 200 cameras every 5 minutes
    assert cost.main(["--env", "dev", "--cameras", "200", "--interval-minutes", "5"]) == 0

    # Then it names what it read and prints each line with both columns, and the totals
    out = capsys.readouterr().out
    assert "57,600 pictures a day" in out
    assert "environments/dev/terraform.tfvars" in out
    for service in (
        "Rekognition DetectLabels",
        "Rekognition Custom Labels model",
        "Lambda",
        "S3",
        "DynamoDB",
        "total per month",
    ):
        line = next(line for line in out.splitlines() if line.startswith(service))
        assert line.count("$") >= 2, line


def test_an_unknown_environment_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(["--env", "staging"]) == 2
    assert "environments/staging does not exist" in capsys.readouterr().err
    assert cost.main([]) == 2
    assert "ENV is not set" in capsys.readouterr().err


def test_the_environments_settings_override_the_stack_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an environment that passes its own inference units and a literal batch size
    env = tmp_path / "big"
    env.mkdir()
    (env / "variables.tf").write_text(
        'variable "model_min_inference_units" {\n  type = number\n  default = 1\n}\n'
    )
    (env / "main.tf").write_text(
        'module "camblur" {\n  source = "../../terraform"\n'
        "  model_min_inference_units = var.model_min_inference_units\n"
        "  refine_batch_size = 10\n}\n"
    )
    (env / "terraform.tfvars").write_text("model_min_inference_units = 3\n")
    monkeypatch.setattr(cost, "ENVIRONMENTS", tmp_path)

    # When the deployment is read
    deployment = cost.read_deployment("big")

    # Then tfvars and main.tf win over terraform/variables.tf, and each source is named
    assert deployment.settings["model_min_inference_units"] == 3
    assert deployment.sources["model_min_inference_units"].endswith("terraform.tfvars")
    assert deployment.settings["refine_batch_size"] == 10
    assert deployment.settings["model_max_run_minutes"] == 240
    assert deployment.sources["model_max_run_minutes"] == "terraform/variables.tf default"


def test_the_model_line_follows_the_schedules_sizing() -> None:
    args = cost.parser().parse_args(["--env", "dev"])
    deployment = cost.read_deployment("dev")

    _, facts = cost.estimate(args, deployment)

    # 57,600 pictures in a 60-minute window at 5 a unit-second: 4 units for 48 minutes
    assert facts["units"] == 4
    assert facts["serving_minutes"] == pytest.approx(48.0)
    # A wider window: fewer units for longer, the same serving unit-hours
    wide = cost.Deployment({**deployment.settings, "refine_window_minutes": 120}, {}, [])
    _, facts_wide = cost.estimate(args, wide)
    assert facts_wide["units"] == 2
    assert facts_wide["serving_minutes"] == pytest.approx(96.0)


def test_each_size_names_the_quotas_it_needs_and_costs_more_the_bigger_it_is() -> None:
    args = cost.parser().parse_args(["--env", "dev"])
    deployment = cost.read_deployment("dev")

    small, medium, large = (cost.quotas_for_size(args, deployment, n) for n in cost.SIZES)

    # 200 cameras fit AWS's default quotas; 2,000 need 32 units and 160 TPS for the hour
    assert (small["units"], small["custom_labels_tps"], small["lambda"]) == (4, 50, 1000)
    assert (medium["units"], medium["custom_labels_tps"]) == (32, 160)
    # 20,000 cameras: a tick's burst needs more DetectLabels TPS and Lambda concurrency
    assert large["detect_labels_tps"] > 50 and large["lambda"] > 1000
    assert small["monthly"] < medium["monthly"] < large["monthly"]
    # Without live detection the month is cheaper at every size
    assert all(q["refinement_only"] < q["monthly"] for q in (small, medium, large))


def test_the_refinement_only_mode_is_priced_with_its_delay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cost.main(["--env", "dev"]) == 0

    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Refinement only"))
    # Published after the 02:30 schedule's refinement: hours, not seconds
    assert "not deployed" in line
    assert "h after they were taken" in line
    assert "20,000" in out and "refine_max_conc" in out


def test_tiered_prices_apply_each_tier_in_turn() -> None:
    assert cost.tiered(1_500_000, "1000000:0.001,inf:0.0008") == pytest.approx(1000 + 400)
    assert cost.reconciler_minutes("rate(5 minutes)") == 5
    with pytest.raises(cost.CostError):
        cost.reconciler_minutes("cron(0 * * * ? *)")


def test_a_tfvars_value_the_root_does_not_pass_on_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tfvars that sets a stack variable which main.tf does not hand to the stack
    env = tmp_path / "odd"
    env.mkdir()
    (env / "main.tf").write_text('module "camblur" {\n  source = "../../terraform"\n}\n')
    (env / "terraform.tfvars").write_text("refine_batch_size = 9\n")
    monkeypatch.setattr(cost, "ENVIRONMENTS", tmp_path)

    # When the estimate runs
    assert cost.main(["--env", "odd"]) == 0

    # Then the stack default is used, as Terraform would, and the output says why
    out = capsys.readouterr().out
    assert "refine_batch_size = 5  (terraform/variables.tf default)" in out
    assert "sets refine_batch_size, but main.tf does not pass it to the stack" in out


def test_an_expression_it_cannot_evaluate_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "computed"
    env.mkdir()
    (env / "main.tf").write_text(
        'module "camblur" {\n  source = "../../terraform"\n  live_memory_mb = 512 * 2\n}\n'
    )
    monkeypatch.setattr(cost, "ENVIRONMENTS", tmp_path)

    assert cost.main(["--env", "computed"]) == 2
    assert "passes live_memory_mb = " in capsys.readouterr().err
