# The pipeline module: trigger filter, failure handling, refine mapping and its policy,
# handlers, and the live queue trigger (live.trigger = "sqs"). The queues are modules/queues'
# (storage_and_schedule.tftest.hcl).

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
}

variables {
  function_names = {
    live_blur        = "t-live-blur"
    refine_schedule  = "t-refine-schedule"
    refine_worker    = "t-refine-worker"
    model_reconciler = "t-model-reconciler"
    status_counts    = "t-status-counts"
  }
  dashboard_name = "t"
  code           = { zip_path = "tests/fixtures/placeholder.zip", runtime = "python3.13", architecture = "arm64" }
  live = {
    memory_mb                    = 1024
    timeout_seconds              = 60
    reserved_concurrency         = 20
    max_event_age_seconds        = 3600
    notification_filter          = { prefix = "cameras/", suffix = ".jpg" }
    person_min_confidence        = 50
    plate_detector               = "packaged_ocr"
    trigger                      = "s3_async"
    rekognition_tps              = 50
    rekognition_max_wait_seconds = 5
    batch_size                   = 10
    max_receive_count            = 20
    backlog_age_alarm_seconds    = 300
  }
  refine = {
    memory_mb                    = 1024
    timeout_seconds              = 120
    batch_size                   = 5
    maximum_concurrency          = 2
    custom_label_names           = ["person", "license_plate"]
    custom_min_confidence        = 50
    days_back                    = 1
    rekognition_tps              = 50
    window_minutes               = 60
    pictures_per_second_per_unit = 5
    worker_seconds_per_picture   = 0.6
    max_receive_count            = 3
    queue_retention_days         = 4
  }
  model = {
    project_arn           = "arn:aws:rekognition:eu-west-1:123456789012:project/people/1700000000000"
    version_arn           = "arn:aws:rekognition:eu-west-1:123456789012:project/people/version/people.v1/1700000000001"
    min_inference_units   = 1
    max_inference_units   = 1
    max_run_minutes       = 240
    drain_confirm_seconds = 45
  }
  blur       = { style = "pixelate", margin = 0.2, jpeg_quality = 85, max_image_pixels = 40000000, max_object_bytes = 52428800 }
  state      = { capture_time_zone = "Europe/Paris", ttl_days = 400 }
  operations = { log_retention_days = 365, log_level = "INFO", metrics_namespace = "camblur", alarm_topic_arn = null, alarm_topic_name = "t-alarms", alarm_emails = ["ops@example.com"] }
  storage = {
    raw_bucket_name       = "t-raw"
    raw_bucket_arn        = "arn:aws:s3:::t-raw"
    blurred_bucket_name   = "t-blurred"
    artifacts_bucket_name = "t-artifacts"
    state_table_name      = "t-state"
    state_stream_arn      = "arn:aws:dynamodb:eu-west-1:123456789012:table/t-state/stream/2026-12-01T00:00:00.000"
    kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  }
  queues = {
    live_dlq   = { arn = "arn:aws:sqs:eu-west-1:123456789012:t-live-dlq", name = "t-live-dlq" }
    refine     = { arn = "arn:aws:sqs:eu-west-1:123456789012:t-refine", name = "t-refine", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/t-refine" }
    refine_dlq = { arn = "arn:aws:sqs:eu-west-1:123456789012:t-refine-dlq", name = "t-refine-dlq" }
    counts_dlq = { arn = "arn:aws:sqs:eu-west-1:123456789012:t-counts-dlq", name = "t-counts-dlq" }
  }
  roles = {
    live_blur        = { arn = "arn:aws:iam::123456789012:role/t-live-blur", name = "t-live-blur" }
    refine_schedule  = { arn = "arn:aws:iam::123456789012:role/t-refine-schedule", name = "t-refine-schedule" }
    refine_worker    = { arn = "arn:aws:iam::123456789012:role/t-refine-worker", name = "t-refine-worker" }
    model_reconciler = { arn = "arn:aws:iam::123456789012:role/t-model-reconciler", name = "t-model-reconciler" }
    status_counts    = { arn = "arn:aws:iam::123456789012:role/t-status-counts", name = "t-status-counts" }
  }
}

run "wiring" {
  command = apply

  module {
    source = "./modules/pipeline"
  }

  assert {
    condition = {
      for key, fn in merge(aws_lambda_function.this, { model_reconciler = aws_lambda_function.reconciler }) : key => fn.handler
      } == {
      live_blur        = "camblur.handlers.live.handler"
      refine_schedule  = "camblur.handlers.schedule.handler"
      refine_worker    = "camblur.handlers.refine.handler"
      model_reconciler = "camblur.handlers.reconcile.handler"
      status_counts    = "camblur.handlers.status_counts.handler"
    }
    error_message = "Handlers must be those of docs/architecture.md."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.status_counts.event_source_arn == var.storage.state_stream_arn &&
      aws_lambda_event_source_mapping.status_counts.parallelization_factor == 1 &&
      aws_lambda_event_source_mapping.status_counts.function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.status_counts.destination_config[0].on_failure[0].destination_arn == var.queues.counts_dlq.arn &&
      jsondecode(one(aws_lambda_event_source_mapping.status_counts.filter_criteria[0].filter).pattern) == { dynamodb = { Keys = { sk = { S = ["STATE"] } } } }
    )
    error_message = "status_counts reads the state stream one batch per shard (the counts rely on per-item order), picture items only, with partial batch responses and the counts DLQ."
  }

  assert {
    condition = alltrue([
      for fn in concat(values(aws_lambda_function.this), [aws_lambda_function.reconciler]) :
      fn.s3_bucket == "t-artifacts" && fn.s3_key == aws_s3_object.code.key && fn.filename == null
    ]) && startswith(aws_s3_object.code.key, "lambda/camblur-lambda-")
    error_message = "Every function is deployed from the zip in the artifacts bucket (over 50 MB: no direct upload)."
  }

  assert {
    condition     = alltrue([for fn in values(aws_lambda_function.this) : fn.runtime == "python3.13" && one(fn.architectures) == "arm64"])
    error_message = "Defaults: python3.13 on arm64 (Makefile LAMBDA_PYTHON / LAMBDA_ARCH)."
  }

  assert {
    condition = (
      one(aws_s3_bucket_notification.raw.lambda_function).filter_prefix == "cameras/" &&
      one(aws_s3_bucket_notification.raw.lambda_function).filter_suffix == ".jpg" &&
      one(aws_s3_bucket_notification.raw.lambda_function).events == toset(["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]) &&
      one(aws_s3_bucket_notification.raw.lambda_function).lambda_function_arn == aws_lambda_function.this["live_blur"].arn
    )
    error_message = "New and removed raw objects matching the filter must invoke live_blur."
  }

  assert {
    condition     = aws_lambda_permission.raw_bucket_invokes_live.source_arn == var.storage.raw_bucket_arn && aws_lambda_permission.raw_bucket_invokes_live.principal == "s3.amazonaws.com"
    error_message = "Only the raw bucket may invoke live_blur."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.live.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.live.maximum_event_age_in_seconds == 3600 &&
      one(one(aws_lambda_function_event_invoke_config.live.destination_config).on_failure).destination == var.queues.live_dlq.arn
    )
    error_message = "live_blur failures are retried twice for at most live.max_event_age_seconds, then sent to its DLQ."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.refine.function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.refine.enabled == false &&
      aws_lambda_event_source_mapping.refine.batch_size == 5 &&
      one(aws_lambda_event_source_mapping.refine.scaling_config).maximum_concurrency == 2
    )
    error_message = "The refine mapping reports item failures, starts disabled, and uses the batch/concurrency variables."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.refine.event_source_arn == var.queues.refine.arn && aws_lambda_event_source_mapping.refine.function_name == aws_lambda_function.this["refine_worker"].arn
    error_message = "The refine mapping feeds the refine queue to refine_worker."
  }

  assert {
    condition = (
      aws_iam_role_policy.reconciler_mapping.role == var.roles["model_reconciler"].name &&
      jsondecode(aws_iam_role_policy.reconciler_mapping.policy).Statement[0].Resource == aws_lambda_event_source_mapping.refine.arn &&
      alltrue([for statement in jsondecode(aws_iam_role_policy.reconciler_mapping.policy).Statement : alltrue([for action in flatten([statement.Action]) : !endswith(action, "*")])])
    )
    error_message = "model_reconciler may switch the refine mapping only, by its UUID ARN, with no wildcard action."
  }

  assert {
    condition     = aws_lambda_function.this["live_blur"].reserved_concurrent_executions == 20 && aws_lambda_function.reconciler.reserved_concurrent_executions == 1
    error_message = "live_blur is capped near the DetectLabels TPS quota; one reconciler at a time."
  }

  assert {
    condition     = aws_lambda_function.reconciler.environment[0].variables.REFINE_MAPPING_UUID == aws_lambda_event_source_mapping.refine.uuid
    error_message = "The reconciler must be told which mapping to switch."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letters) == 3 && length(aws_cloudwatch_metric_alarm.function_errors) == 5
    error_message = "One alarm per DLQ and one per function."
  }

  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.function_errors), values(aws_cloudwatch_metric_alarm.dead_letters), values(aws_cloudwatch_metric_alarm.refine), [aws_cloudwatch_metric_alarm.refine_backlog_expiring]) :
      alarm.alarm_actions == toset([aws_sns_topic.alarms[0].arn])
    ]) && length(aws_sns_topic_subscription.alarm_emails) == 1
    error_message = "Without alarm_topic_arn, the module makes a topic, subscribes alarm_emails, and every alarm notifies it."
  }

  assert {
    condition = toset(flatten([
      for widget in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [
        for metric in lookup(widget.properties, "metrics", []) : metric[1] if metric[0] == "camblur"
      ] if widget.type == "metric"
      ])) == toset(["PicturesProcessed", "PicturesRefined", "PersonsBlurred", "PlatesBlurred", "PicturesRejected", "PicturesFailed", "ModelRunningMinutes",
      "RefineModelFailed", "RefineModelUnusable", "RefineWatchdogStops", "RefineSessionOverdue", "RefineDaysLate", "RefineRunsWithFailures",
    "PicturesDeadLettered", "RefineDaysCarriedOver", "ModelRotations"])
    error_message = "The dashboard shows the camblur metrics, the refinement's faults among them."
  }

  assert {
    condition = length([
      for widget in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : widget
      if widget.type == "alarm" && length(lookup(widget.properties, "alarms", [])) == length(aws_cloudwatch_metric_alarm.dead_letters) + length(aws_cloudwatch_metric_alarm.function_errors) + length(aws_cloudwatch_metric_alarm.refine) + 1
    ]) == 1
    error_message = "The dashboard shows every alarm."
  }
}

run "no_filter_means_every_new_object" {
  command = plan

  module {
    source = "./modules/pipeline"
  }

  variables {
    live = {
      memory_mb                    = 1024
      timeout_seconds              = 60
      reserved_concurrency         = 20
      max_event_age_seconds        = 3600
      notification_filter          = { prefix = "", suffix = "" } # the stack's default
      person_min_confidence        = 50
      plate_detector               = "packaged_ocr"
      trigger                      = "s3_async"
      rekognition_tps              = 50
      rekognition_max_wait_seconds = 5
      batch_size                   = 10
      max_receive_count            = 20
      backlog_age_alarm_seconds    = 300
    }
  }

  assert {
    condition     = one(aws_s3_bucket_notification.raw.lambda_function).filter_prefix == null && one(aws_s3_bucket_notification.raw.lambda_function).filter_suffix == null
    error_message = "An empty filter must not send empty prefix/suffix rules to S3."
  }
}

run "alarms_notify_the_topic_when_given" {
  command = plan

  module {
    source = "./modules/pipeline"
  }

  variables {
    operations = { log_retention_days = 365, log_level = "INFO", metrics_namespace = "camblur", alarm_topic_arn = "arn:aws:sns:eu-west-1:123456789012:alarms", alarm_topic_name = "t-alarms", alarm_emails = [] }
  }

  assert {
    condition = alltrue([
      for alarm in concat(values(aws_cloudwatch_metric_alarm.dead_letters), values(aws_cloudwatch_metric_alarm.refine)) :
      alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"])
    ]) && length(aws_sns_topic.alarms) == 0
    error_message = "Alarms must notify alarm_topic_arn, and no topic of the module's own is made."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.refine_day_over_capacity.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:alarms"]) && aws_cloudwatch_metric_alarm.refine_day_over_capacity.metric_name == "RefineDayOverCapacity"
    error_message = "A day over the quotas must reach alarm_topic_arn (metric RefineDayOverCapacity)."
  }
}

# live.trigger = "sqs": S3 -> live queue -> mapping -> live_blur.
run "live_trigger_sqs" {
  command = apply

  module {
    source = "./modules/pipeline"
  }

  variables {
    live = {
      memory_mb                    = 1024
      timeout_seconds              = 60
      reserved_concurrency         = 32
      max_event_age_seconds        = 3600
      notification_filter          = { prefix = "cameras/", suffix = ".jpg" }
      person_min_confidence        = 50
      plate_detector               = "packaged_ocr"
      trigger                      = "sqs"
      rekognition_tps              = 50
      rekognition_max_wait_seconds = 5
      batch_size                   = 10
      max_receive_count            = 20
      backlog_age_alarm_seconds    = 300
    }
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.raw.lambda_function) == 0 &&
      one(aws_s3_bucket_notification.raw.queue).queue_arn == aws_sqs_queue.live[0].arn &&
      one(aws_s3_bucket_notification.raw.queue).filter_prefix == "cameras/" &&
      one(aws_s3_bucket_notification.raw.queue).events == toset(["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    )
    error_message = "New and removed raw objects must go to the live queue, not to the function."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue_policy.live[0].policy).Statement[0].Principal.Service == "s3.amazonaws.com" &&
      jsondecode(aws_sqs_queue_policy.live[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == var.storage.raw_bucket_arn
    )
    error_message = "Only the raw bucket may send to the live queue."
  }

  assert {
    condition = (
      aws_sqs_queue.live[0].visibility_timeout_seconds == 360 &&
      jsondecode(aws_sqs_queue.live[0].redrive_policy).deadLetterTargetArn == var.queues.live_dlq.arn &&
      jsondecode(aws_sqs_queue.live[0].redrive_policy).maxReceiveCount == 20
    )
    error_message = "The live queue holds messages 6 x the function timeout and dead-letters after 20 receives."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.live[0].function_response_types == toset(["ReportBatchItemFailures"]) &&
      aws_lambda_event_source_mapping.live[0].batch_size == 10 &&
      one(aws_lambda_event_source_mapping.live[0].scaling_config).maximum_concurrency == 32 &&
      aws_lambda_function.this["live_blur"].reserved_concurrent_executions == 32
    )
    error_message = "The live mapping reports item failures and polls with as many instances as may run."
  }

  assert {
    condition = (
      aws_lambda_function.this["live_blur"].environment[0].variables["REKOGNITION_TPS"] == "50" &&
      aws_lambda_function.this["live_blur"].environment[0].variables["MAX_CONCURRENCY"] == "32"
    )
    error_message = "Each live instance paces itself to REKOGNITION_TPS / MAX_CONCURRENCY."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.live_backlog_age[0].metric_name == "ApproximateAgeOfOldestMessage" &&
      aws_cloudwatch_metric_alarm.live_backlog_age[0].threshold == 300
    )
    error_message = "An alarm watches the age of the live backlog."
  }
}
