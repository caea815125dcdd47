# Storage protections and the schedules, through the whole stack (mocked provider).

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
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mocked" }
  }
}

variables {
  raw_bucket_name       = "t-raw"
  blurred_bucket_name   = "t-blurred"
  state_table_name      = "t-state"
  kms_alias_name        = "alias/t"
  log_group_name_prefix = "/aws/lambda/t-"
}

run "buckets_and_table_are_protected" {
  command = apply

  module {
    source = "./modules/storage"
  }

  variables {
    raw_expiration_days = 2
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && jsondecode(aws_kms_key.this.policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "The key rotates and has an explicit key policy."
  }

  assert {
    condition = alltrue([for block in values(aws_s3_bucket_public_access_block.this) :
    block.block_public_acls && block.block_public_policy && block.ignore_public_acls && block.restrict_public_buckets])
    error_message = "Both buckets block every kind of public access."
  }

  assert {
    condition = alltrue([for config in values(aws_s3_bucket_server_side_encryption_configuration.this) :
    one(one(config.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"])
    error_message = "Both buckets encrypt with SSE-KMS."
  }

  assert {
    condition = alltrue([for policy in values(aws_s3_bucket_policy.this) :
    jsondecode(policy.policy).Statement[0].Effect == "Deny" && jsondecode(policy.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false"])
    error_message = "Both buckets refuse requests without TLS."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.this["raw"].rule).expiration).days == 2
    error_message = "Raw pictures expire after raw_expiration_days."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.this["blurred"].rule).expiration).expired_object_delete_marker == true
    error_message = "Blurred pictures do not expire; only orphan delete markers are removed."
  }

  assert {
    condition = alltrue([for config in values(aws_s3_bucket_lifecycle_configuration.this) :
      one(one(config.rule).noncurrent_version_expiration).noncurrent_days == 7 &&
    one(one(config.rule).abort_incomplete_multipart_upload).days_after_initiation == 1])
    error_message = "Old versions expire and unfinished uploads are aborted in both buckets."
  }

  assert {
    condition = (
      one(aws_dynamodb_table.this.global_secondary_index).name == "by_capture_day" &&
      one(aws_dynamodb_table.this.global_secondary_index).hash_key == "capture_day" &&
      one(aws_dynamodb_table.this.global_secondary_index).range_key == "pk" &&
      one(aws_dynamodb_table.this.global_secondary_index).projection_type == "INCLUDE" &&
      toset(one(aws_dynamodb_table.this.global_secondary_index).non_key_attributes) == toset(["status", "raw_key", "raw_version_id"])
    )
    error_message = "The GSI must match docs/architecture.md."
  }

  assert {
    condition = (
      aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this.point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at" &&
      aws_dynamodb_table.this.server_side_encryption[0].enabled
    )
    error_message = "The table is on-demand, has PITR, TTL on expires_at and KMS encryption."
  }
}

run "bad_bucket_name_is_refused" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    raw_bucket_name = "Camblur_Raw"
  }

  expect_failures = [var.raw_bucket_name]
}

run "schedules_follow_the_time_zone_and_invoke_only_their_functions" {
  command = plan

  module {
    source = "./modules/schedule"
  }

  variables {
    group_name                    = "t"
    role_name                     = "t-scheduler"
    refine_schedule_function_arn  = "arn:aws:lambda:eu-west-1:123456789012:function:t-refine-schedule"
    model_reconciler_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:t-model-reconciler"
    refine_schedule_time_zone     = "Europe/Paris"
  }

  assert {
    condition     = aws_scheduler_schedule.refine.schedule_expression_timezone == "Europe/Paris" && aws_scheduler_schedule.refine.target[0].arn == var.refine_schedule_function_arn
    error_message = "The daily schedule runs refine_schedule in the given time zone."
  }

  assert {
    condition     = aws_scheduler_schedule.reconcile.schedule_expression == "rate(1 minute)" && aws_scheduler_schedule.reconcile.target[0].arn == var.model_reconciler_function_arn
    error_message = "model_reconciler runs every minute by default."
  }

  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource) == toset([var.refine_schedule_function_arn, var.model_reconciler_function_arn])
    error_message = "The scheduler's role may invoke the two scheduled functions and nothing else."
  }
}
