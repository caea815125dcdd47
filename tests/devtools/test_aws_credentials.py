"""devtools.aws_credentials: what `make plan ENV=dev|prod` says before Terraform runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from devtools import aws_credentials, tfconfig


def test_dev_as_committed_names_the_placeholder_bucket_and_the_wrong_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given moto's credentials (account 123456789012) and environments/dev as committed
    with mock_aws():
        # When the check runs
        code = aws_credentials.main(["dev"])

    # Then it exits 3 and says both what is wrong and how to provide credentials
    err = capsys.readouterr().err
    assert code == 3
    assert "backend.hcl still names the placeholder bucket REPLACE-ME-" in err
    assert "credentials are for account 123456789012, not 111111111111" in err
    assert "s3://REPLACE-ME-camblur-terraform-state/camblur/dev/terraform.tfstate" in err
    assert "AWS_PROFILE=camblur-dev make plan ENV=dev" in err


def test_the_right_account_and_a_real_bucket_pass_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "team"
    env.mkdir()
    (env / "terraform.tfvars").write_text('allowed_account_ids = ["123456789012"]\n')
    (env / "backend.hcl").write_text('bucket = "team-state"\nkey    = "camblur.tfstate"\n')
    monkeypatch.setattr(tfconfig, "ENVIRONMENTS", tmp_path)

    with mock_aws():
        assert aws_credentials.main(["team"]) == 0
    assert capsys.readouterr().err == ""
