# The live trigger through a queue (live_trigger = "sqs"): bursts wait in SQS instead of
# failing in Lambda's asynchronous retries.
#
#   raw bucket --S3 event--> live queue --mapping (maximum concurrency)--> live_blur
#   live queue --after live_max_receive_count receives--> live DLQ (poison messages only)
#
# - The mapping's maximum concurrency is live_reserved_concurrency: the function's instances
#   and the number that share the DetectLabels quota are the same figure (MAX_CONCURRENCY in
#   main.tf), so each paces itself to live_rekognition_tps / live_reserved_concurrency.
# - Partial batch responses: only the failed or handed-back pictures return to the queue.
# - Visibility timeout 6 x the function timeout (AWS's advice for SQS event sources).
# - Throttled pictures are handed back by the function with a growing delay; receive n waits
#   at least min(150, 2^(n-1)) s, so 20 receives take 30 min or more of throttling.
# - Rejected pictures are recorded and deleted by the function: the DLQ holds only messages
#   that failed every receive (not S3 events, or a dependency down for that long).
# - Alarm: the age of the oldest message (the backlog) above live_backlog_age_alarm_seconds.
#
locals {
  live_from_queue = var.live.trigger == "sqs"
  live_queue_name = "${var.function_names["live_blur"]}-queue"
}

resource "aws_sqs_queue" "live" {
  count = local.live_from_queue ? 1 : 0

  name                       = local.live_queue_name
  visibility_timeout_seconds = 6 * var.live.timeout_seconds
  message_retention_seconds  = 4 * 24 * 3600 # a weekend's outage loses nothing
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true # S3 can send to SSE-SQS queues without a key policy
  redrive_policy = jsonencode({
    deadLetterTargetArn = var.queues.live_dlq.arn
    maxReceiveCount     = var.live.max_receive_count
  })

  tags = var.tags
}

# jsonencode rather than aws_iam_policy_document: the mocked provider of `terraform test`
# renders data sources as random strings.
resource "aws_sqs_queue_policy" "live" {
  count = local.live_from_queue ? 1 : 0

  queue_url = aws_sqs_queue.live[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "RawBucketNotifications"
        Effect    = "Allow"
        Principal = { Service = "s3.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.live[0].arn
        Condition = {
          ArnEquals    = { "aws:SourceArn" = var.storage.raw_bucket_arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
      {
        Sid       = "TlsOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.live[0].arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

# What the mapping needs to poll for the function, and what the function needs to hand back.
resource "aws_iam_role_policy" "live_queue" {
  count = local.live_from_queue ? 1 : 0

  name = "live-queue"
  role = var.roles["live_blur"].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid = "LiveQueue"
      Action = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
      ]
      Effect   = "Allow"
      Resource = aws_sqs_queue.live[0].arn
    }]
  })
}

resource "aws_lambda_event_source_mapping" "live" {
  count = local.live_from_queue ? 1 : 0

  event_source_arn                   = aws_sqs_queue.live[0].arn
  function_name                      = aws_lambda_function.this["live_blur"].arn
  batch_size                         = var.live.batch_size
  maximum_batching_window_in_seconds = 0                           # latency first
  function_response_types            = ["ReportBatchItemFailures"] # failed pictures retry alone

  scaling_config {
    # As many pollers as instances may run: more would only be throttled by Lambda.
    maximum_concurrency = var.live.reserved_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.live.reserved_concurrency >= 2
      error_message = "With live_trigger = \"sqs\", live_reserved_concurrency must be at least 2 (the mapping's maximum concurrency)."
    }
  }

  depends_on = [aws_iam_role_policy.live_queue]
}

resource "aws_cloudwatch_metric_alarm" "live_backlog_age" {
  count = local.live_from_queue ? 1 : 0

  alarm_name          = "${local.live_queue_name}-backlog-age"
  alarm_description   = "Pictures wait longer than ${var.live.backlog_age_alarm_seconds} s to be blurred: the DetectLabels quota or live_reserved_concurrency is too small for the cameras (README: Scale)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.live[0].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.live.backlog_age_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
