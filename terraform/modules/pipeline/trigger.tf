# New or removed raw picture -> live_blur (a removal takes the blurred copy down). Keys arrive
# URL-encoded in the event (the handler decodes).

resource "aws_lambda_permission" "raw_bucket_invokes_live" {
  statement_id   = "AllowRawBucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["live_blur"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.storage.raw_bucket_arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "raw" {
  bucket = var.storage.raw_bucket_name

  # live_trigger (live_queue.tf): S3 invokes live_blur, or sends to the live queue.
  dynamic "lambda_function" {
    for_each = local.live_from_queue ? [] : ["live-blur"]
    content {
      id                  = lambda_function.value
      lambda_function_arn = aws_lambda_function.this["live_blur"].arn
      events              = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix       = var.live.notification_filter.prefix != "" ? var.live.notification_filter.prefix : null
      filter_suffix       = var.live.notification_filter.suffix != "" ? var.live.notification_filter.suffix : null
    }
  }

  dynamic "queue" {
    for_each = aws_sqs_queue.live
    content {
      id            = "live-blur"
      queue_arn     = queue.value.arn
      events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix = var.live.notification_filter.prefix != "" ? var.live.notification_filter.prefix : null
      filter_suffix = var.live.notification_filter.suffix != "" ? var.live.notification_filter.suffix : null
    }
  }

  # S3 checks that it may invoke the function / send to the queue when this is written.
  depends_on = [aws_lambda_permission.raw_bucket_invokes_live, aws_sqs_queue_policy.live]
}

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}
