# Who may read raw pictures, who may publish, and what cameras and the application get: read
# from the policy documents the stack writes (mocked provider, no AWS). A principal is "denied"
# when a Deny statement of the bucket policy names the action and its ArnNotLike
# aws:PrincipalArn condition lists no pattern that matches the principal (S3's evaluation of
# these statements; * matches any characters).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:mocked-alarms" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mocked" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:mocked"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mocked"
    }
  }
  mock_resource "aws_lambda_event_source_mapping" {
    defaults = {
      arn  = "arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:11111111-2222-3333-4444-555555555555"
      uuid = "11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mocked" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mocked" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked" }
  }
}

variables {
  environment       = "dev"
  lambda_zip_path   = "tests/fixtures/placeholder.zip"
  model_project_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/people/1700000000000"
  model_version_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/people/version/people.v1/1700000000001"
  raw_notification_filter = {
    prefix = "cameras/"
    suffix = ""
  }

  # Principals to try, and the actions that matter.
  live_role        = "arn:aws:iam::123456789012:role/camblur-dev-live-blur"
  worker_role      = "arn:aws:iam::123456789012:role/camblur-dev-refine-worker"
  schedule_role    = "arn:aws:iam::123456789012:role/camblur-dev-refine-schedule"
  other_role       = "arn:aws:iam::123456789012:role/data-science"
  account_root     = "arn:aws:iam::123456789012:root"
  incident_role    = "arn:aws:iam::123456789012:role/incident-response"
  raw_read_actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"]
}

run "only_the_pipeline_reads_raw_pictures" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for principal in [var.other_role, var.account_root, var.schedule_role, var.incident_role] : [
        for action in var.raw_read_actions : anytrue([
          for statement in jsondecode(output.bucket_policies.raw).Statement :
          statement.Effect == "Deny" && contains(flatten([statement.Action]), action) && !anytrue([
            for pattern in flatten([try(statement.Condition.ArnNotLike["aws:PrincipalArn"], [])]) :
            can(regex("^${replace(replace(pattern, ".", "\\."), "*", ".*")}$", principal))
          ])
        ])
      ]
    ]))
    error_message = "A principal that is not a pipeline role (another role, the account root, refine_schedule, a break-glass role not configured) must be denied every read of raw pictures."
  }

  assert {
    condition = alltrue(flatten([
      for principal in [var.live_role, var.worker_role] : [
        for action in var.raw_read_actions : !anytrue([
          for statement in jsondecode(output.bucket_policies.raw).Statement :
          statement.Effect == "Deny" && contains(flatten([statement.Action]), action) && !anytrue([
            for pattern in flatten([try(statement.Condition.ArnNotLike["aws:PrincipalArn"], [])]) :
            can(regex("^${replace(replace(pattern, ".", "\\."), "*", ".*")}$", principal))
          ]) && try(statement.Condition.Bool["aws:SecureTransport"], "") != "false"
        ])
      ]
    ]))
    error_message = "live_blur and refine_worker (the roles modules/rekognition_iam names so) must be able to read raw pictures."
  }

  assert {
    condition = !anytrue(flatten([
      for statement in jsondecode(output.bucket_policies.raw).Statement : [
        for action in ["s3:PutObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"] :
        contains(flatten([statement.Action]), action) && statement.Effect == "Deny" && !can(statement.Condition.Bool["aws:SecureTransport"])
      ]
    ]))
    error_message = "Cameras must still upload, and camblur erase list and delete raw versions."
  }

  assert {
    condition = (
      anytrue([
        for statement in jsondecode(output.bucket_policies.blurred).Statement :
        statement.Effect == "Deny" && contains(flatten([statement.Action]), "s3:PutObject") &&
        toset(try(statement.Condition.ArnNotLike["aws:PrincipalArn"], [])) == toset([var.live_role, var.worker_role])
      ]) &&
      !anytrue([
        for statement in jsondecode(output.bucket_policies.blurred).Statement :
        statement.Effect == "Deny" && contains(flatten([statement.Action]), "s3:DeleteObjectVersion")
      ])
    )
    error_message = "Only live_blur and refine_worker may write the blurred bucket; deletes (the live pass, camblur erase) stay with IAM."
  }

  assert {
    condition = (
      toset(flatten([for statement in jsondecode(output.camera_uploader_policy.document).Statement : statement.Action])) == toset(["s3:PutObject", "kms:GenerateDataKey"]) &&
      [for statement in jsondecode(output.camera_uploader_policy.document).Statement : statement.Resource if statement.Action == "s3:PutObject"] == ["arn:aws:s3:::mocked/cameras/*"] &&
      [for statement in jsondecode(output.camera_uploader_policy.document).Statement : statement.Resource if statement.Action == "kms:GenerateDataKey"] == [output.raw_kms_key_arn]
    )
    error_message = "The camera uploader policy grants PutObject under the trigger's prefix and the raw key's GenerateDataKey, and nothing that reads."
  }

  assert {
    condition = (
      contains(flatten([for statement in jsondecode(output.blurred_reader_policy.document).Statement : statement.Action]), "s3:GetObject") &&
      !anytrue([
        for action in flatten([for statement in jsondecode(output.blurred_reader_policy.document).Statement : statement.Action]) :
        contains(["s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], action) || endswith(action, "*")
      ])
    )
    error_message = "The blurred reader reads current blurred pictures only: no older version by id, no write."
  }

  assert {
    condition     = output.raw_read_trail != null
    error_message = "Reads of raw pictures are audited by default (raw_read_audit)."
  }
}

run "a_break_glass_principal_may_read_raw_pictures" {
  command = apply

  variables {
    raw_break_glass_principal_arns = ["arn:aws:iam::123456789012:role/incident-*"]
  }

  assert {
    condition = alltrue([
      for action in var.raw_read_actions : !anytrue([
        for statement in jsondecode(output.bucket_policies.raw).Statement :
        statement.Effect == "Deny" && contains(flatten([statement.Action]), action) && !anytrue([
          for pattern in flatten([try(statement.Condition.ArnNotLike["aws:PrincipalArn"], [])]) :
          can(regex("^${replace(replace(pattern, ".", "\\."), "*", ".*")}$", var.incident_role))
        ]) && try(statement.Condition.Bool["aws:SecureTransport"], "") != "false"
      ])
    ])
    error_message = "A break-glass principal (raw_break_glass_principal_arns) must not be denied raw reads."
  }

  assert {
    condition = alltrue([
      for action in var.raw_read_actions : anytrue([
        for statement in jsondecode(output.bucket_policies.raw).Statement :
        statement.Effect == "Deny" && contains(flatten([statement.Action]), action) && !anytrue([
          for pattern in flatten([try(statement.Condition.ArnNotLike["aws:PrincipalArn"], [])]) :
          can(regex("^${replace(replace(pattern, ".", "\\."), "*", ".*")}$", var.other_role))
        ])
      ])
    ])
    error_message = "Naming a break-glass principal must not open raw reads to anyone else."
  }
}

run "break_glass_principals_must_be_iam_arns" {
  command = plan

  variables {
    raw_break_glass_principal_arns = ["*"]
  }

  expect_failures = [var.raw_break_glass_principal_arns]
}

run "no_audit_trail_when_turned_off" {
  command = plan

  variables {
    raw_read_audit = false
  }

  assert {
    condition     = output.raw_read_trail == null
    error_message = "raw_read_audit = false makes no trail and no audit bucket."
  }
}

# The raw key, in the module that makes it.
run "the_raw_key_decrypts_only_through_s3_for_the_readers" {
  command = apply

  module {
    source = "./modules/storage"
  }

  variables {
    names = {
      raw_bucket       = "t-raw"
      blurred_bucket   = "t-blurred"
      artifacts_bucket = "t-artifacts"
      audit_bucket     = "t-audit"
      state_table      = "t-state"
      kms_alias        = "alias/t"
      raw_kms_alias    = "alias/t-raw"
      raw_read_trail   = "t-raw-reads"
      log_group_prefix = "/aws/lambda/t-"
    }
    settings = {
      raw_retention_days       = 3
      artifact_retention_days  = 30
      kms_deletion_window_days = 30
      force_destroy            = false
      deletion_protection      = true
      raw_read_audit           = true
      audit_retention_days     = 731
    }
    access = {
      raw_reader_arns            = ["arn:aws:iam::123456789012:role/t-live-blur", "arn:aws:iam::123456789012:role/t-refine-worker"]
      blurred_writer_arns        = ["arn:aws:iam::123456789012:role/t-live-blur", "arn:aws:iam::123456789012:role/t-refine-worker"]
      break_glass_principal_arns = []
    }
  }

  assert {
    condition = (
      [for statement in jsondecode(aws_kms_key.raw.policy).Statement : statement.Sid if anytrue([
        for action in flatten([statement.Action]) : contains(["kms:*", "kms:Decrypt", "kms:ReEncrypt*", "kms:ReEncryptFrom"], action)
      ])] == ["ReadersDecryptThroughS3"] &&
      alltrue([
        for statement in jsondecode(aws_kms_key.raw.policy).Statement :
        statement.Condition.StringEquals["kms:ViaService"] == "s3.eu-west-1.amazonaws.com" &&
        toset(statement.Condition.ArnLike["aws:PrincipalArn"]) == toset(var.access.raw_reader_arns)
        if statement.Sid == "ReadersDecryptThroughS3"
      ])
    )
    error_message = "Only the raw readers may decrypt with the raw key, and only through S3; the account administers the key but cannot use it."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_kms_key.raw.policy).Statement :
      try(statement.Condition.StringEquals["kms:ViaService"], "") == "s3.eu-west-1.amazonaws.com"
      if contains(flatten([statement.Action]), "kms:GenerateDataKey")
    ])
    error_message = "Uploaders get data keys of the raw key through S3 only."
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_server_side_encryption_configuration.this["raw"].rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.raw.arn &&
      one(one(aws_s3_bucket_server_side_encryption_configuration.this["blurred"].rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.this.arn
    )
    error_message = "The raw bucket is encrypted with its own key, the blurred one with the main key."
  }

  assert {
    condition = (
      aws_cloudtrail.raw_reads[0].enable_log_file_validation &&
      aws_cloudtrail.raw_reads[0].s3_bucket_name == aws_s3_bucket.this["audit"].id &&
      jsonencode({ for selector in one(aws_cloudtrail.raw_reads[0].advanced_event_selector).field_selector : selector.field => concat(selector.equals == null ? [] : tolist(selector.equals), selector.starts_with == null ? [] : tolist(selector.starts_with)) }) == jsonencode({
        eventCategory    = ["Data"]
        "resources.type" = ["AWS::S3::Object"]
        "resources.ARN"  = ["${aws_s3_bucket.this["raw"].arn}/"]
        readOnly         = ["true"]
      })
    )
    error_message = "The trail logs every read-only object event of the raw bucket, with validated log files in the audit bucket."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.this["audit"].rule).expiration).days == 731
    error_message = "The trail's log files are kept audit_retention_days."
  }
}
