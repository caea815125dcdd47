# The stack's variables: defaults plan, bad values are refused with a clear message.
# Mocked provider: no AWS, no endpoint; `terraform test` in terraform/ (make test-tf).

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:mocked-alarms" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mocked" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # The provider checks ARN shapes; random mock strings would fail those checks.
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
}

run "defaults_make_a_valid_stack" {
  command = apply

  assert {
    condition     = output.raw_bucket == "camblur-dev-raw-123456789012" && output.blurred_bucket == "camblur-dev-blurred-123456789012"
    error_message = "Bucket names are project-environment-purpose-account."
  }

  assert {
    condition = output.function_names == {
      live_blur        = "camblur-dev-live-blur"
      refine_schedule  = "camblur-dev-refine-schedule"
      refine_worker    = "camblur-dev-refine-worker"
      model_reconciler = "camblur-dev-model-reconciler"
      status_counts    = "camblur-dev-status-counts"
    }
    error_message = "Function names are built once from project and environment."
  }

  assert {
    condition     = output.refine_schedule.time_zone == "UTC" && output.refine_schedule.expression == "cron(30 2 * * ? *)"
    error_message = "The daily refinement runs at 02:30 in the capture time zone by default."
  }
}

run "capture_time_zone_drives_the_daily_schedule" {
  command = plan

  variables {
    capture_time_zone = "Europe/Paris"
  }

  assert {
    condition     = output.refine_schedule.time_zone == "Europe/Paris"
    error_message = "The refinement schedule must follow the capture time zone."
  }
}

run "unknown_environment_is_refused" {
  command = plan
  variables {
    environment = "staging"
  }
  expect_failures = [var.environment]
}

run "python_3_14_is_refused" {
  command = plan
  variables {
    lambda_runtime = "python3.14" # hashicorp/aws 5.100 refuses it too
  }
  expect_failures = [var.lambda_runtime]
}

run "unknown_architecture_is_refused" {
  command = plan
  variables {
    lambda_architecture = "amd64"
  }
  expect_failures = [var.lambda_architecture]
}

run "unknown_blur_style_is_refused" {
  command = plan
  variables {
    blur = { style = "swirl" }
  }
  expect_failures = [var.blur]
}

run "jpeg_quality_above_95_is_refused" {
  command = plan
  variables {
    blur = { jpeg_quality = 100 }
  }
  expect_failures = [var.blur]
}

run "malformed_project_arn_is_refused" {
  command = plan
  variables {
    model_project_arn = "arn:aws:rekognition:eu-west-1:123456789012:collection/people"
  }
  expect_failures = [var.model_project_arn]
}

run "model_of_another_project_is_refused" {
  command = plan
  variables {
    model_version_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/other/version/other.v1/1700000000001"
  }
  expect_failures = [var.model_version_arn]
}

run "fewer_max_than_min_inference_units_is_refused" {
  command = plan
  variables {
    model_min_inference_units = 2
    model_max_inference_units = 1
  }
  expect_failures = [var.model_max_inference_units]
}

run "refining_a_day_whose_raw_pictures_expired_is_refused" {
  command = plan
  variables {
    raw_retention_days = 3
    refine_days_back   = 2
  }
  expect_failures = [var.refine_days_back]
}

run "log_retention_outside_cloudwatch_values_is_refused" {
  command = plan
  variables {
    log_retention_days = 42
  }
  expect_failures = [var.log_retention_days]
}

run "time_zone_must_be_iana" {
  command = plan
  variables {
    capture_time_zone = "CET+1"
  }
  expect_failures = [var.capture_time_zone]
}

run "reconciler_schedule_must_be_a_rate" {
  command = plan
  variables {
    reconciler_schedule_expression = "cron(* * * * ? *)"
  }
  expect_failures = [var.reconciler_schedule_expression]
}

run "refine_concurrency_below_two_is_refused" {
  command = plan
  variables {
    refine_maximum_concurrency = 1
  }
  expect_failures = [var.refine_maximum_concurrency]
}

run "alarm_topic_must_be_an_sns_arn" {
  command = plan
  variables {
    alarm_topic_arn = "camblur-alarms"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "notification_prefix_must_not_start_with_a_slash" {
  command = plan
  variables {
    raw_notification_filter = { prefix = "/cameras/" }
  }
  expect_failures = [var.raw_notification_filter]
}

# Validated once, here: the modules take these as typed objects and do not check them again.
run "unknown_log_level_is_refused" {
  command = plan
  variables {
    log_level = "VERBOSE"
  }
  expect_failures = [var.log_level]
}

run "live_event_age_outside_lambdas_limits_is_refused" {
  command = plan
  variables {
    live_max_event_age_seconds = 30
  }
  expect_failures = [var.live_max_event_age_seconds]
}

run "model_watchdog_under_ten_minutes_is_refused" {
  command = plan
  variables {
    model_max_run_minutes = 5
  }
  expect_failures = [var.model_max_run_minutes]
}

run "custom_label_with_a_comma_is_refused" {
  command = plan
  variables {
    custom_label_names = ["person,plate"] # CUSTOM_LABEL_NAMES is comma-separated
  }
  expect_failures = [var.custom_label_names]
}

run "negative_refine_retries_are_refused" {
  command = plan
  variables {
    refine_schedule_retry_attempts = -1
  }
  expect_failures = [var.refine_schedule_retry_attempts]
}
