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
    audit_retention_days     = 365
  }
  access = {
    raw_reader_arns            = ["arn:aws:iam::123456789012:role/t-live-blur", "arn:aws:iam::123456789012:role/t-refine-worker"]
    blurred_writer_arns        = ["arn:aws:iam::123456789012:role/t-live-blur", "arn:aws:iam::123456789012:role/t-refine-worker"]
    break_glass_principal_arns = []
  }
}

run "buckets_and_table_are_protected" {
  command = apply

  module {
    source = "./modules/storage"
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
    error_message = "Every bucket refuses requests without TLS."
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_lifecycle_configuration.this["raw"].rule).expiration).days == 2 &&
      one(one(aws_s3_bucket_lifecycle_configuration.this["raw"].rule).noncurrent_version_expiration).noncurrent_days == 1
    )
    error_message = "No raw version outlives raw_retention_days (3): current versions expire after 2 days, noncurrent ones 1 day later."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.this["blurred"].rule).expiration).expired_object_delete_marker == true
    error_message = "Blurred pictures do not expire; only orphan delete markers are removed."
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_lifecycle_configuration.this["blurred"].rule).noncurrent_version_expiration).noncurrent_days == 1 &&
      one(one(aws_s3_bucket_lifecycle_configuration.this["artifacts"].rule).noncurrent_version_expiration).noncurrent_days == 30 &&
      alltrue([for config in values(aws_s3_bucket_lifecycle_configuration.this) :
    one(one(config.rule).abort_incomplete_multipart_upload).days_after_initiation == 1]))
    error_message = "A replaced blurred copy is retrievable one day, old zips artifact_retention_days; unfinished uploads are aborted in every bucket."
  }

  assert {
    condition = (
      { for index in aws_dynamodb_table.this.global_secondary_index : index.name => [index.hash_key, index.range_key, index.projection_type] } == {
        by_capture_day = ["capture_day", "pk", "INCLUDE"]
        by_camera      = ["camera_id", "captured_at", "INCLUDE"]
      } &&
      alltrue([
        for index in aws_dynamodb_table.this.global_secondary_index :
        length(setsubtract(["status", "reason", "refine_outcome", "raw_key", "raw_version_id"], index.non_key_attributes)) == 0
      ])
    )
    error_message = "The indexes (by_capture_day, by_camera, each with the status attributes) must match docs/architecture.md."
  }

  assert {
    condition = (
      aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this.point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at" &&
      aws_dynamodb_table.this.server_side_encryption[0].enabled &&
      aws_dynamodb_table.this.stream_enabled &&
      aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    )
    error_message = "The table is on-demand, has PITR, TTL on expires_at, KMS encryption and a stream of new and old images (status_counts takes a change's old status away)."
  }
}

run "bad_bucket_name_is_refused" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    names = {
      raw_bucket       = "Camblur_Raw"
      blurred_bucket   = "t-blurred"
      artifacts_bucket = "t-artifacts"
      audit_bucket     = "t-audit"
      state_table      = "t-state"
      kms_alias        = "alias/t"
      raw_kms_alias    = "alias/t-raw"
      raw_read_trail   = "t-raw-reads"
      log_group_prefix = "/aws/lambda/t-"
    }
  }

  expect_failures = [var.names]
}

run "schedules_follow_the_time_zone_and_invoke_only_their_functions" {
  command = plan

  module {
    source = "./modules/schedule"
  }

  variables {
    group_name = "t"
    role_name  = "t-scheduler"
    function_arns = {
      refine_schedule  = "arn:aws:lambda:eu-west-1:123456789012:function:t-refine-schedule"
      model_reconciler = "arn:aws:lambda:eu-west-1:123456789012:function:t-model-reconciler"
    }
    schedules = {
      refine_expression     = "cron(30 2 * * ? *)"
      refine_time_zone      = "Europe/Paris"
      refine_retry_attempts = 2
      reconciler_expression = "rate(1 minute)"
    }
  }

  assert {
    condition     = aws_scheduler_schedule.refine.schedule_expression_timezone == "Europe/Paris" && aws_scheduler_schedule.refine.target[0].arn == var.function_arns.refine_schedule
    error_message = "The daily schedule runs refine_schedule in the given time zone."
  }

  assert {
    condition     = aws_scheduler_schedule.reconcile.schedule_expression == "rate(1 minute)" && aws_scheduler_schedule.reconcile.target[0].arn == var.function_arns.model_reconciler
    error_message = "model_reconciler runs on its rate (the stack's default: every minute)."
  }

  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource) == toset([var.function_arns.refine_schedule, var.function_arns.model_reconciler])
    error_message = "The scheduler's role may invoke the two scheduled functions and nothing else."
  }
}

run "refine_queue_outlasts_its_consumer_and_dead_letters" {
  command = apply

  module {
    source = "./modules/queues"
  }

  variables {
    names  = { live_dlq = "t-live-dlq", refine = "t-refine", refine_dlq = "t-refine-dlq", counts_dlq = "t-counts-dlq" }
    refine = { consumer_timeout_seconds = 120, max_receive_count = 3, retention_days = 4 }
  }

  assert {
    condition     = aws_sqs_queue.refine.visibility_timeout_seconds >= 6 * var.refine.consumer_timeout_seconds
    error_message = "The refine queue's visibility timeout must be at least six times the worker's timeout."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.refine.redrive_policy).maxReceiveCount == 3 && jsondecode(aws_sqs_queue.refine.redrive_policy).deadLetterTargetArn == aws_sqs_queue.refine_dlq.arn
    error_message = "Refine messages go to the refine DLQ after 3 receives."
  }

  assert {
    condition     = aws_sqs_queue.refine.message_retention_seconds == 4 * 24 * 3600
    error_message = "Refine messages are kept refine.retention_days (they wait for the next session)."
  }

  assert {
    condition     = alltrue([for queue in [aws_sqs_queue.live_dlq, aws_sqs_queue.refine, aws_sqs_queue.refine_dlq] : queue.sqs_managed_sse_enabled])
    error_message = "Every queue is encrypted at rest."
  }
}
