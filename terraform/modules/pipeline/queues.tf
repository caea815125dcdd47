# Failure handling and the refine queue.
#   live_blur (async, from S3) --2 retries--> live DLQ
#   refine queue --mapping (disabled until the model runs)--> refine_worker
#   refine queue --after refine_max_receive_count receives--> refine DLQ

locals {
  dlq_retention_seconds = 14 * 24 * 3600 # SQS maximum: time to look at what failed
}

resource "aws_sqs_queue" "live_dlq" {
  name                      = var.queue_names["live_dlq"]
  message_retention_seconds = local.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_lambda_function_event_invoke_config" "live" {
  function_name          = aws_lambda_function.this["live_blur"].function_name
  maximum_retry_attempts = 2
  # A live retry must not arrive once the refinement of its day may have begun: an older
  # event goes to the DLQ instead (the picture is then refined from its model boxes alone).
  maximum_event_age_in_seconds = var.live_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.live_dlq.arn
    }
  }
}

resource "aws_sqs_queue" "refine_dlq" {
  name                      = var.queue_names["refine_dlq"]
  message_retention_seconds = local.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "refine" {
  name = var.queue_names["refine"]
  # AWS's advice for SQS event sources: at least six times the function timeout, so a
  # message is not received again while a throttled or retried batch still holds it.
  visibility_timeout_seconds = 6 * var.worker_timeout_seconds
  message_retention_seconds  = 4 * 24 * 3600 # a run that waits longer than this is stale anyway
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.refine_dlq.arn
    maxReceiveCount     = var.refine_max_receive_count
  })

  tags = var.tags
}

resource "aws_lambda_event_source_mapping" "refine" {
  event_source_arn        = aws_sqs_queue.refine.arn
  function_name           = aws_lambda_function.this["refine_worker"].arn
  batch_size              = var.refine_batch_size
  function_response_types = ["ReportBatchItemFailures"] # failed pictures retry alone

  scaling_config {
    maximum_concurrency = var.refine_maximum_concurrency
  }

  # Off until the Custom Labels model is RUNNING: model_reconciler switches it on and off.
  enabled = false

  lifecycle {
    # The reconciler owns this attribute at run time; a plan must not switch it back.
    ignore_changes = [enabled]
  }
}
