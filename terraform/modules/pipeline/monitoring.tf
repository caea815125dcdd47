# Alarms (anything in a dead-letter queue, any function error, the refinement's faults), the
# SNS topic they notify, and one dashboard that shows every metric and every alarm.

locals {
  # Every alarm notifies a person: the topic passed in, or the one made here.
  alarm_topic_arn = var.operations.alarm_topic_arn != null ? var.operations.alarm_topic_arn : aws_sns_topic.alarms[0].arn
  alarm_actions   = [local.alarm_topic_arn]

  dead_letter_queues = {
    live_dlq   = var.queues.live_dlq.name
    refine_dlq = var.queues.refine_dlq.name
    counts_dlq = var.queues.counts_dlq.name
  }

  # The refinement's faults: metrics the code emits (EMF, camblur.observability) with the
  # dimension Powertools adds, service = the function's POWERTOOLS_SERVICE_NAME.
  # tests/unit/test_alarm_metrics.py checks each against the code.
  refine_alarms = {
    model_failed = {
      metric      = "RefineModelFailed"
      function    = "model_reconciler"
      description = "The Custom Labels model became FAILED, EXPIRED or DEPRECATED, or was stopped by someone else, mid-session: the run is FAILED and its pictures wait in the queue for the next session. Train or choose another model version (model_version_arn)."
    }
    model_unusable = {
      metric      = "RefineModelUnusable"
      function    = "refine_schedule"
      description = "The daily refinement found the model unusable (FAILED, EXPIRED, DEPRECATED or missing) and queued nothing: the day keeps its live blur only. Set model_version_arn to a working version."
    }
    watchdog_stops = {
      metric      = "RefineWatchdogStops"
      function    = "model_reconciler"
      description = "The watchdog stopped the model (model_max_run_minutes) with work left, or a model that never reached RUNNING: the leftovers are carried into the next session. Check the worker's errors and the sizing."
    }
    session_overdue = {
      metric      = "RefineSessionOverdue"
      function    = "model_reconciler"
      description = "A model session is still open 15 minutes past its watchdog limit: the model may still be billing (a stop that keeps failing). Check the reconciler's log and stop the model by hand if needed."
    }
    day_late = {
      metric      = "RefineDaysLate"
      function    = "refine_schedule"
      description = "A capture day was not refined by the next day's run (its run is not DONE/DONE_WITH_FAILURES). camblur status --day shows it."
    }
    runs_with_failures = {
      metric      = "RefineRunsWithFailures"
      function    = "model_reconciler"
      description = "A refinement run ended DONE_WITH_FAILURES: some pictures were dead-lettered, refused or gone (counts on the run item; refine_status and refine_error on each picture)."
    }
  }
}

resource "aws_sns_topic" "alarms" {
  count = var.operations.alarm_topic_arn == null ? 1 : 0

  name              = var.operations.alarm_topic_name
  kms_master_key_id = var.storage.kms_key_arn # the key's policy lets CloudWatch use it

  tags = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  count = var.operations.alarm_topic_arn == null ? 1 : 0

  arn = aws_sns_topic.alarms[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms[0].arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } } # trigger.tf
    }]
  })
}

resource "aws_sns_topic_subscription" "alarm_emails" {
  for_each = var.operations.alarm_topic_arn == null ? toset(var.operations.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "refine" {
  for_each = local.refine_alarms

  alarm_name          = "${var.function_names[each.value.function]}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = var.operations.metrics_namespace
  metric_name         = each.value.metric
  dimensions          = { service = var.function_names[each.value.function] }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "refine_backlog_expiring" {
  alarm_name          = "${var.queues.refine.name}-expiring"
  alarm_description   = "Refine messages are older than ${var.refine.queue_retention_days - 1} days: SQS drops them after ${var.refine.queue_retention_days} (refine_queue_retention_days). No session could refine them (model unusable?); fix the model, the next daily run takes them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = var.queues.refine.name }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = (var.refine.queue_retention_days - 1) * 24 * 3600
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = local.dead_letter_queues

  alarm_name          = "${each.value}-not-empty"
  alarm_description   = "Messages in ${each.value}: pictures that failed for good. Inspect, fix, redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.all_functions

  alarm_name          = "${each.value.function_name}-errors"
  alarm_description   = "${each.value.function_name} raised errors (see its log group)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

locals {
  # Powertools adds the dimension service = POWERTOOLS_SERVICE_NAME (the function name).
  live_service   = var.function_names["live_blur"]
  worker_service = var.function_names["refine_worker"]
  region         = data.aws_region.current.name

  dashboard_widgets = [
    {
      title   = "Live pictures (per 5 min)"
      metrics = [for name in ["PicturesProcessed", "PicturesRejected", "PicturesFailed"] : [var.operations.metrics_namespace, name, "service", local.live_service]]
    },
    {
      title = "Persons and plates blurred (per 5 min)"
      metrics = concat(
        [for name in ["PersonsBlurred", "PlatesBlurred"] : [var.operations.metrics_namespace, name, "service", local.live_service, { label = "live ${name}" }]],
        [for name in ["PersonsBlurred", "PlatesBlurred"] : [var.operations.metrics_namespace, name, "service", local.worker_service, { label = "refine ${name}" }]],
      )
    },
    {
      title = "Refinement (per 5 min)"
      metrics = [
        [var.operations.metrics_namespace, "PicturesRefined", "service", local.worker_service, { label = "refined" }],
        [var.operations.metrics_namespace, "PicturesFailed", "service", local.worker_service, { label = "refine failures" }],
        [var.operations.metrics_namespace, "ModelRunningMinutes", "service", var.function_names["model_reconciler"], { label = "model running minutes" }],
      ]
    },
    {
      title = "Queues (messages visible)"
      metrics = [
        for key, queue in { refine = var.queues.refine.name, live_dlq = var.queues.live_dlq.name, refine_dlq = var.queues.refine_dlq.name } :
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = key, stat = "Maximum" }]
      ]
    },
    {
      title   = "Refinement faults (per 5 min)"
      metrics = [for key, alarm in local.refine_alarms : [var.operations.metrics_namespace, alarm.metric, "service", var.function_names[alarm.function], { label = key }]]
    },
    {
      title = "Refinement failures and hand-backs (per 5 min)"
      metrics = [
        [var.operations.metrics_namespace, "PicturesDeadLettered", "service", local.worker_service, { label = "dead-lettered" }],
        [var.operations.metrics_namespace, "RefineDaysCarriedOver", "service", var.function_names["model_reconciler"], { label = "days carried over" }],
        [var.operations.metrics_namespace, "ModelRotations", "service", var.function_names["model_reconciler"], { label = "model rotations" }],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.queues.refine.name, { label = "oldest refine message (s)", stat = "Maximum" }],
      ]
    },
    {
      title   = "Function errors"
      metrics = [for key, fn in local.all_functions : ["AWS/Lambda", "Errors", "FunctionName", fn.function_name, { label = key }]]
    },
    {
      title   = "Function duration p95 (ms)"
      metrics = [for key, fn in local.all_functions : ["AWS/Lambda", "Duration", "FunctionName", fn.function_name, { label = key, stat = "p95" }]]
    },
  ]
}

data "aws_region" "current" {}

locals {
  all_alarm_arns = concat(
    [for alarm in aws_cloudwatch_metric_alarm.dead_letters : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.refine : alarm.arn],
    [aws_cloudwatch_metric_alarm.refine_backlog_expiring.arn],
    [for alarm in aws_cloudwatch_metric_alarm.live_backlog_age : alarm.arn],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.dashboard_name
  dashboard_body = jsonencode({
    widgets = concat([
      for index, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          metrics = widget.metrics
          region  = local.region
          stat    = "Sum"
          period  = 300
          view    = "timeSeries"
        }
      }
      ], [{
        # Every alarm of the stack, red or green, below the graphs.
        type   = "alarm"
        x      = 0
        y      = ceil(length(local.dashboard_widgets) / 2) * 6
        width  = 24
        height = 6
        properties = {
          title  = "Alarms"
          alarms = local.all_alarm_arns
        }
    }])
  })
}
