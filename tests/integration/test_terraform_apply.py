"""Deploy environments/local to the embedded AWS endpoint and ask AWS what it got.

Given the embedded endpoint (moto server) and the Lambda zip,
when pytest-terraform applies environments/local,
then the buckets are private, KMS-encrypted and TLS-only, the raw bucket triggers live_blur
with the configured filter, the refine mapping reports batch item failures and is off, the
roles are scoped, a second plan is empty, and everything can be destroyed.

Why pytest-terraform and not tftest: it is what the issue asks for and it tears down through
pytest's finalizers. tftest would return the plan as JSON, which this test does not need:
it checks the deployed resources through boto3, the way the functions will see them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pytest_terraform import terraform
from pytest_terraform import tf as pytest_terraform_internals

from localaws.embedded import embedded_aws, start, stop, terraform_cli_config

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ROOT / "environments"
DIST_ZIP = ROOT / "dist" / "camblur-lambda.zip"
REGION = "eu-west-1"  # environments/local/variables.tf

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("embedded_aws")]

# pytest-terraform finds a root module under --tf-mod-dir / the ini key terraform-mod-dir,
# or next to the test. Our roots live in environments/: point it there unless configured.
if not pytest_terraform_internals.LazyModuleDir.value:
    pytest_terraform_internals.LazyModuleDir.value = str(ENVIRONMENTS)


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TF_VAR_lambda_zip_path if set, else dist/camblur-lambda.zip, else a fresh build."""
    configured = os.environ.get("TF_VAR_lambda_zip_path")  # noqa: SIM112 (Terraform spells it so)
    if configured:
        path = Path(configured)
        path = path if path.is_absolute() else (ENVIRONMENTS / "local" / path).resolve()
        if not path.is_file():
            pytest.fail(f"TF_VAR_lambda_zip_path={configured} does not exist")
        return path
    if DIST_ZIP.is_file():
        return DIST_ZIP
    output = tmp_path_factory.mktemp("lambda") / "camblur-lambda.zip"
    build = subprocess.run(
        [sys.executable, "-m", "devtools.build_lambda", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0 or not output.is_file():
        pytest.fail(
            f"{DIST_ZIP.relative_to(ROOT)} is missing and building it failed; run `make build` "
            f"or set TF_VAR_lambda_zip_path to a zip.\n{build.stdout}\n{build.stderr}"
        )
    return output


@pytest.fixture(scope="module")
def endpoint(lambda_zip: Path) -> Iterator[str]:
    """A private embedded endpoint, and the variables environments/local reads."""
    config = os.environ.get("TF_CLI_CONFIG_FILE")
    with pytest.MonkeyPatch.context() as patch, embedded_aws() as url:
        if not (config and Path(config).is_file()):
            # Offline machines: install the provider from the mirror, as make does.
            mirror = terraform_cli_config(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
            if mirror:
                patch.setenv("TF_CLI_CONFIG_FILE", str(mirror))
            else:
                patch.delenv("TF_CLI_CONFIG_FILE", raising=False)
        patch.setenv("TF_VAR_aws_endpoint_url", url)
        patch.setenv("TF_VAR_lambda_zip_path", str(lambda_zip))
        patch.setenv("TF_INPUT", "0")
        patch.setenv("APPLY_STARTED", str(time.monotonic()))
        yield url


# Function scope on purpose: destroy then runs in this test's teardown, while the endpoint
# (module scope) still listens. The steps below are one story: apply, inspect, re-plan.
terraform("local", scope="function", name="local_stack")


def aws(endpoint_url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def output(stack: Any, name: str) -> Any:
    return stack.outputs[name]["value"]


def test_local_environment_deploys_secured_and_converges(
    endpoint: str, local_stack: Any, record_property: Any
) -> None:
    apply_seconds = time.monotonic() - float(os.environ["APPLY_STARTED"])
    resources = count_resources(local_stack.terraform.show()["values"]["root_module"])
    record_property("init_plan_apply_seconds", round(apply_seconds, 1))

    buckets_are_private_encrypted_and_tls_only(endpoint, local_stack)
    raw_bucket_triggers_live_blur_with_filter(endpoint, local_stack)
    refine_mapping_reports_item_failures_and_is_off(endpoint, local_stack)
    roles_are_scoped(endpoint, local_stack)
    live_failures_go_to_the_dead_letter_queue(endpoint, local_stack)

    plan_seconds = second_plan_is_empty(local_stack)
    record_property("second_plan_seconds", round(plan_seconds, 1))
    record_property("resources", resources)
    print(
        f"\n{resources} resources; init+plan+apply {apply_seconds:.0f} s, second plan {plan_seconds:.0f} s"
    )


def count_resources(module: dict[str, Any]) -> int:
    own = [r for r in module.get("resources", []) if r["mode"] == "managed"]
    return len(own) + sum(count_resources(child) for child in module.get("child_modules", []))


def buckets_are_private_encrypted_and_tls_only(endpoint: str, stack: Any) -> None:
    s3 = aws(endpoint, "s3")
    key_arn = output(stack, "kms_key_arn")
    for bucket in (output(stack, "raw_bucket"), output(stack, "blurred_bucket")):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms", bucket
        assert default["KMSMasterKeyID"] == key_arn, bucket

        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, (bucket, block)

        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }.items() <= policy["Statement"][0].items(), policy

        versioning = s3.get_bucket_versioning(Bucket=bucket)
        assert versioning["Status"] == "Enabled", bucket

    raw_rules = s3.get_bucket_lifecycle_configuration(Bucket=output(stack, "raw_bucket"))["Rules"]
    assert raw_rules[0]["Expiration"]["Days"] == 3  # the stack's default raw_expiration_days
    assert raw_rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1


def raw_bucket_triggers_live_blur_with_filter(endpoint: str, stack: Any) -> None:
    s3 = aws(endpoint, "s3")
    live_arn = aws(endpoint, "lambda").get_function(
        FunctionName=output(stack, "function_names")["live_blur"]
    )["Configuration"]["FunctionArn"]
    config = s3.get_bucket_notification_configuration(Bucket=output(stack, "raw_bucket"))
    (notification,) = config["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == live_arn
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    rules = {rule["Name"]: rule["Value"] for rule in notification["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "cameras/"}  # environments/local/terraform.tfvars
    assert not s3.get_bucket_notification_configuration(Bucket=output(stack, "blurred_bucket")).get(
        "LambdaFunctionConfigurations"
    ), "the blurred bucket must trigger nothing"


def refine_mapping_reports_item_failures_and_is_off(endpoint: str, stack: Any) -> None:
    mapping = aws(endpoint, "lambda").get_event_source_mapping(
        UUID=output(stack, "refine_mapping_uuid")
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Disabled"
    assert mapping["FunctionArn"].endswith(
        ":function:" + output(stack, "function_names")["refine_worker"]
    )

    reconciler = aws(endpoint, "lambda").get_function_configuration(
        FunctionName=output(stack, "function_names")["model_reconciler"]
    )
    assert reconciler["Environment"]["Variables"]["REFINE_MAPPING_UUID"] == mapping["UUID"]


def _statements(iam: Any, role: str) -> list[dict[str, Any]]:
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        statements += document["Statement"]
    assert not iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], role
    return statements


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def roles_are_scoped(endpoint: str, stack: Any) -> None:
    iam = aws(endpoint, "iam")
    roles = output(stack, "role_names")
    model_version_arn = aws(endpoint, "lambda").get_function_configuration(
        FunctionName=output(stack, "function_names")["refine_worker"]
    )["Environment"]["Variables"]["MODEL_VERSION_ARN"]

    for function, role in roles.items():
        for statement in _statements(iam, role):
            actions = _as_list(statement["Action"])
            assert statement["Effect"] == "Allow", (role, statement)
            assert not any(action.endswith("*") for action in actions), (role, statement)
            if "*" in _as_list(statement["Resource"]):
                # AWS offers no resource type for DetectLabels or DetectText; nothing else may be "*".
                assert (function, actions) == (
                    "live_blur",
                    ["rekognition:DetectLabels", "rekognition:DetectText"],
                ), statement

    live_actions = {a for s in _statements(iam, roles["live_blur"]) for a in _as_list(s["Action"])}
    assert not {a for a in live_actions if "CustomLabels" in a or "ProjectVersion" in a}

    custom = [
        s
        for s in _statements(iam, roles["refine_worker"])
        if "rekognition:DetectCustomLabels" in _as_list(s["Action"])
    ]
    assert [s["Resource"] for s in custom] == [model_version_arn]

    mapping_statements = [
        s
        for s in _statements(iam, roles["model_reconciler"])
        if "lambda:UpdateEventSourceMapping" in _as_list(s["Action"])
    ]
    assert [s["Resource"] for s in mapping_statements] == [
        f"arn:aws:lambda:{REGION}:123456789012:event-source-mapping:"
        + output(stack, "refine_mapping_uuid")
    ]


def live_failures_go_to_the_dead_letter_queue(endpoint: str, stack: Any) -> None:
    config = aws(endpoint, "lambda").get_function_event_invoke_config(
        FunctionName=output(stack, "function_names")["live_blur"]
    )
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":camblur-local-live-dlq"
    )


def second_plan_is_empty(stack: Any) -> float:
    """No drift: the provider reads back exactly what it wrote (exit code 0, not 2)."""
    runner = stack.terraform
    started = time.monotonic()
    plan = subprocess.run(
        [
            runner.tf_bin or shutil.which("terraform") or "terraform",
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            "-lock=false",
            f"-state={runner.state_path}",
        ],
        cwd=runner.module_dir,
        env={**os.environ, "TF_DATA_DIR": str(runner.work_dir), "TF_IN_AUTOMATION": "yes"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert plan.returncode == 0, f"second plan is not empty:\n{plan.stdout}\n{plan.stderr}"
    return time.monotonic() - started


def test_embedded_endpoint_cli_starts_reports_and_stops(tmp_path: Path) -> None:
    url, started = start(tmp_path)
    try:
        assert started and url.startswith("http://127.0.0.1:")
        assert start(tmp_path) == (url, False), "a second start reuses the running server"
        assert aws(url, "sts").get_caller_identity()["Account"] == "123456789012"
    finally:
        assert stop(tmp_path)
    assert not stop(tmp_path)
