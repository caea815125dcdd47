# The three SQS queues, before the roles that use them and the functions that fill them:
#   live_blur (async, from S3) --on failure--> live DLQ
#   refine_schedule --> refine queue --after max_receive_count receives--> refine DLQ
#   state table stream --> status_counts --after every retry--> counts DLQ
# The on-failure destination and the mapping to refine_worker belong to modules/pipeline.

locals {
  dlq_retention_seconds = 14 * 24 * 3600 # SQS maximum: time to look at what failed
}

resource "aws_sqs_queue" "live_dlq" {
  name                      = var.names.live_dlq
  message_retention_seconds = local.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "refine_dlq" {
  name                      = var.names.refine_dlq
  message_retention_seconds = local.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

# Where Lambda puts what status_counts could not count after every retry: the batch's shard and
# sequence numbers (not the records), to recount that day with `camblur status --recount`.
resource "aws_sqs_queue" "counts_dlq" {
  name                      = var.names.counts_dlq
  message_retention_seconds = local.dlq_retention_seconds
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "refine" {
  name = var.names.refine
  # AWS's advice for SQS event sources: at least six times the function timeout, so a
  # message is not received again while a throttled or retried batch still holds it.
  visibility_timeout_seconds = 6 * var.refine.consumer_timeout_seconds
  # Covers the gap to the next session, which carries a failed session's leftovers.
  message_retention_seconds = var.refine.retention_days * 24 * 3600
  sqs_managed_sse_enabled   = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.refine_dlq.arn
    maxReceiveCount     = var.refine.max_receive_count
  })

  tags = var.tags
}
