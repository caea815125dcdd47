"""Deploy environments/local to the embedded AWS endpoint and ask AWS what it got.

Given the embedded endpoint (moto server) and the Lambda zip,
when environments/local is applied by its real Terraform (the session's one deployment,
tests/integration/conftest.py),
then the buckets are private, KMS-encrypted and TLS-only, raw pictures are readable only by the
deployed pipeline roles (bucket policy, own key) and their reads are audited, the raw bucket's
events reach live_blur through the live queue with the configured filter, the refine mapping
reports batch item failures and is off, the
roles are scoped, a second plan is empty, and (at the end of the session) everything can be
destroyed.

The checks go through boto3, the way the functions will see the resources. They read the stack
as Terraform left it, so they run before the tests that use it (`pristine_stack`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import DemoError, LocalEnvironment
from localaws.embedded import start, stop
from tests.integration.deployment import REGION, count_resources, terraform_show
from tests.integration.deployment import aws_client as aws

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(local_environment: LocalEnvironment) -> dict[str, Any]:
    """The deployment's Terraform outputs, by name."""
    return local_environment.deployment.outputs


def output(stack: dict[str, Any], name: str) -> Any:
    return stack[name]


@pytest.mark.pristine_stack
def test_local_environment_deploys_secured_and_converges(
    local_environment: LocalEnvironment,
    stack: dict[str, Any],
    deployment_seconds: float,
    record_property: Any,
) -> None:
    endpoint = local_environment.aws_url
    resources = count_resources(terraform_show(local_environment))
    record_property("init_plan_apply_seconds", round(deployment_seconds, 1))

    buckets_are_private_encrypted_and_tls_only(endpoint, stack)
    raw_pictures_are_confined_to_the_pipeline_roles(endpoint, stack)
    raw_bucket_triggers_live_blur_with_filter(endpoint, stack)
    refine_mapping_reports_item_failures_and_is_off(endpoint, stack)
    roles_are_scoped(endpoint, stack)
    live_failures_go_to_the_dead_letter_queue(endpoint, stack)

    plan_seconds = second_plan_is_empty(local_environment)
    record_property("second_plan_seconds", round(plan_seconds, 1))
    record_property("resources", resources)
    print(
        f"\n{resources} resources; endpoints+init+apply {deployment_seconds:.0f} s, "
        f"second plan {plan_seconds:.0f} s"
    )


def buckets_are_private_encrypted_and_tls_only(endpoint: str, stack: dict[str, Any]) -> None:
    s3 = aws(endpoint, "s3")
    # The raw bucket has a key of its own; the blurred one shares the stack's main key.
    keys = {
        output(stack, "raw_bucket"): output(stack, "raw_kms_key_arn"),
        output(stack, "blurred_bucket"): output(stack, "kms_key_arn"),
    }
    assert len(set(keys.values())) == 2
    for bucket, key_arn in keys.items():
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
    # The stack's default raw_retention_days (3): 2 days current, then 1 day noncurrent.
    assert raw_rules[0]["Expiration"]["Days"] == 2
    assert raw_rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert raw_rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1


def raw_pictures_are_confined_to_the_pipeline_roles(endpoint: str, stack: dict[str, Any]) -> None:
    """The ARNs the stack builds from role names are the deployed roles' (moto evaluates no
    policy: what they allow is checked in terraform/tests/access.tftest.hcl)."""
    iam = aws(endpoint, "iam")
    roles = output(stack, "role_names")
    readers = {
        iam.get_role(RoleName=roles[f])["Role"]["Arn"] for f in ("live_blur", "refine_worker")
    }
    for bucket, sid in (
        ("raw_bucket", "OnlyPipelineReadsRawPictures"),
        ("blurred_bucket", "OnlyPipelineWritesBlurredPictures"),
    ):
        policy = json.loads(
            aws(endpoint, "s3").get_bucket_policy(Bucket=output(stack, bucket))["Policy"]
        )
        [statement] = [s for s in policy["Statement"] if s.get("Sid") == sid]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert set(_as_list(statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"])) == readers

    key = aws(endpoint, "kms").get_key_policy(
        KeyId=output(stack, "raw_kms_key_arn"), PolicyName="default"
    )
    statements = {s["Sid"]: s for s in json.loads(key["Policy"])["Statement"]}
    decrypt = statements["ReadersDecryptThroughS3"]
    assert set(_as_list(decrypt["Condition"]["ArnLike"]["aws:PrincipalArn"])) == readers
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"

    uploader = json.loads(output(stack, "camera_uploader_policy")["document"])
    attached = iam.get_policy(PolicyArn=output(stack, "camera_uploader_policy")["arn"])["Policy"]
    assert attached["PolicyName"] == output(stack, "camera_uploader_policy")["name"]
    assert {a for s in uploader["Statement"] for a in _as_list(s["Action"])} == {
        "s3:PutObject",
        "kms:GenerateDataKey",
    }

    trail = output(stack, "raw_read_trail")  # environments/local turns it on, as prod does
    cloudtrail = aws(endpoint, "cloudtrail")
    [selector] = cloudtrail.get_event_selectors(TrailName=trail["arn"])["AdvancedEventSelectors"]
    fields = {
        f["Field"]: f.get("Equals") or f.get("StartsWith") for f in selector["FieldSelectors"]
    }
    raw_arn = f"arn:aws:s3:::{output(stack, 'raw_bucket')}/"
    assert fields == {
        "eventCategory": ["Data"],
        "resources.type": ["AWS::S3::Object"],
        "resources.ARN": [raw_arn],
        "readOnly": ["true"],
    }
    assert cloudtrail.get_trail_status(Name=trail["arn"])["IsLogging"]


def raw_bucket_triggers_live_blur_with_filter(endpoint: str, stack: dict[str, Any]) -> None:
    """S3 -> live queue -> mapping -> live_blur (live_trigger = "sqs", every environment)."""
    s3, sqs, lambda_ = aws(endpoint, "s3"), aws(endpoint, "sqs"), aws(endpoint, "lambda")
    live = lambda_.get_function_configuration(
        FunctionName=output(stack, "function_names")["live_blur"]
    )
    config = s3.get_bucket_notification_configuration(Bucket=output(stack, "raw_bucket"))
    assert not config.get("LambdaFunctionConfigurations"), "S3 must not invoke live_blur directly"
    (notification,) = config["QueueConfigurations"]
    assert notification["QueueArn"].endswith(":" + output(stack, "queue_names")["live"])
    assert sorted(notification["Events"]) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    rules = {rule["Name"]: rule["Value"] for rule in notification["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "cameras/"}  # environments/local/terraform.tfvars
    assert not s3.get_bucket_notification_configuration(Bucket=output(stack, "blurred_bucket")).get(
        "QueueConfigurations"
    ), "the blurred bucket must trigger nothing"

    queue_url = sqs.get_queue_url(QueueName=output(stack, "queue_names")["live"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) >= 6 * live["Timeout"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":" + output(stack, "queue_names")["live_dlq"])

    (mapping,) = [
        m
        for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
        if m["EventSourceArn"] == notification["QueueArn"]
    ]
    assert mapping["FunctionArn"] == live["FunctionArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Enabled"

    # Writing the configuration made S3 send the queue its test event (peeked, left visible):
    # live_blur must delete it unread (test_demo_pipeline: the queues end empty).
    [message] = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    test_event = json.loads(message["Body"])
    assert test_event["Event"] == "s3:TestEvent"
    assert test_event["Bucket"] == output(stack, "raw_bucket")


def refine_mapping_reports_item_failures_and_is_off(endpoint: str, stack: dict[str, Any]) -> None:
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


def roles_are_scoped(endpoint: str, stack: dict[str, Any]) -> None:
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


def live_failures_go_to_the_dead_letter_queue(endpoint: str, stack: dict[str, Any]) -> None:
    config = aws(endpoint, "lambda").get_function_event_invoke_config(
        FunctionName=output(stack, "function_names")["live_blur"]
    )
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":camblur-local-live-dlq"
    )


def second_plan_is_empty(environment: LocalEnvironment) -> float:
    """No drift: the provider reads back exactly what it wrote (exit code 0, not 2)."""
    started = time.monotonic()
    try:
        environment.terraform.run("plan", "-input=false", "-detailed-exitcode", "-lock=false")
    except DemoError as failure:  # exit code 2 (changes) or 1 (error), with the plan's tail
        pytest.fail(f"second plan is not empty:\n{failure}")
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
