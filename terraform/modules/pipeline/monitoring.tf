# Alarms (anything in a dead-letter queue, any function error) and one dashboard.

locals {
  alarm_actions = var.operations.alarm_topic_arn == null ? [] : [var.operations.alarm_topic_arn]

  dead_letter_queues = {
    live_dlq   = var.queues.live_dlq.name
    refine_dlq = var.queues.refine_dlq.name
  }
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

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.dashboard_name
  dashboard_body = jsonencode({
    widgets = [
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
    ]
  })
}
