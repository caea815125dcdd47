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
# Variables below belong in variables.tf; they are here while that file is restructured.

variable "live_trigger" {
  description = "How S3 reaches live_blur: \"s3_async\" (S3 invokes it asynchronously) or \"sqs\" (S3 -> live queue -> event source mapping; the shape that absorbs bursts)."
  type        = string
  default     = "s3_async"

  validation {
    condition     = contains(["s3_async", "sqs"], var.live_trigger)
    error_message = "live_trigger must be one of: s3_async, sqs."
  }
}

variable "live_rekognition_tps" {
  description = "DetectLabels calls per second live_blur may make in all (the account's quota, or the part of it left to camblur); REKOGNITION_TPS."
  type        = number
  default     = 50

  validation {
    condition     = var.live_rekognition_tps > 0
    error_message = "live_rekognition_tps must be a positive number."
  }
}

variable "live_rekognition_max_wait_seconds" {
  description = "How long one picture waits out DetectLabels throttling inside an invocation before it is handed back to the live queue with a delay; REKOGNITION_MAX_WAIT_SECONDS."
  type        = number
  default     = 5

  validation {
    condition     = var.live_rekognition_max_wait_seconds >= 0 && var.live_rekognition_max_wait_seconds <= 30
    error_message = "live_rekognition_max_wait_seconds must be between 0 and 30."
  }
}

variable "refine_rekognition_tps" {
  description = "DetectCustomLabels calls per second refine_worker may make in all (the account's quota; the model's inference units may allow less); REKOGNITION_TPS."
  type        = number
  default     = 50

  validation {
    condition     = var.refine_rekognition_tps > 0
    error_message = "refine_rekognition_tps must be a positive number."
  }
}

variable "live_batch_size" {
  description = "Messages (pictures) per live_blur invocation from the live queue."
  type        = number
  default     = 10

  validation {
    condition     = var.live_batch_size >= 1 && var.live_batch_size <= 10
    error_message = "live_batch_size must be between 1 and 10 (above 10 SQS needs a batching window)."
  }
}

variable "live_max_receive_count" {
  description = "A live message goes to the live DLQ after this many receives (throttling hand-backs count: 20 is 30 min or more of throttling)."
  type        = number
  default     = 20

  validation {
    condition     = var.live_max_receive_count >= 5 && var.live_max_receive_count <= 1000
    error_message = "live_max_receive_count must be between 5 and 1000."
  }
}

variable "live_backlog_age_alarm_seconds" {
  description = "Alarm when the oldest message in the live queue is older than this (pictures not yet published)."
  type        = number
  default     = 300

  validation {
    condition     = var.live_backlog_age_alarm_seconds >= 60
    error_message = "live_backlog_age_alarm_seconds must be at least 60."
  }
}

locals {
  live_from_queue = var.live_trigger == "sqs"
  live_queue_name = lookup(var.queue_names, "live", "${var.function_names["live_blur"]}-queue")
  # The role's name from its ARN (roles here have no path).
  live_role_name = element(split("/", var.role_arns["live_blur"]), length(split("/", var.role_arns["live_blur"])) - 1)
}

resource "aws_sqs_queue" "live" {
  count = local.live_from_queue ? 1 : 0

  name                       = local.live_queue_name
  visibility_timeout_seconds = 6 * var.live_timeout_seconds
  message_retention_seconds  = 4 * 24 * 3600 # a weekend's outage loses nothing
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true # S3 can send to SSE-SQS queues without a key policy
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.live_dlq.arn
    maxReceiveCount     = var.live_max_receive_count
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
          ArnEquals    = { "aws:SourceArn" = var.raw_bucket_arn }
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
  role = local.live_role_name
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
  batch_size                         = var.live_batch_size
  maximum_batching_window_in_seconds = 0                           # latency first
  function_response_types            = ["ReportBatchItemFailures"] # failed pictures retry alone

  scaling_config {
    # As many pollers as instances may run: more would only be throttled by Lambda.
    maximum_concurrency = var.live_reserved_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.live_reserved_concurrency >= 2
      error_message = "With live_trigger = \"sqs\", live_reserved_concurrency must be at least 2 (the mapping's maximum concurrency)."
    }
  }

  depends_on = [aws_iam_role_policy.live_queue]
}

resource "aws_cloudwatch_metric_alarm" "live_backlog_age" {
  count = local.live_from_queue ? 1 : 0

  alarm_name          = "${local.live_queue_name}-backlog-age"
  alarm_description   = "Pictures wait longer than ${var.live_backlog_age_alarm_seconds} s to be blurred: the DetectLabels quota or live_reserved_concurrency is too small for the cameras (README: Scale)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.live[0].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.live_backlog_age_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
