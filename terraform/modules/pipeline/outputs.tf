output "function_arns" {
  description = "Function ARN per function."
  value       = { for key, fn in local.all_functions : key => fn.arn }
}

output "function_names" {
  description = "Function name per function."
  value       = { for key, fn in local.all_functions : key => fn.function_name }
}

output "refine_mapping_uuid" {
  description = "UUID of the refine queue's event source mapping (REFINE_MAPPING_UUID)."
  value       = aws_lambda_event_source_mapping.refine.uuid
}

output "raw_notification" {
  description = "What triggers live_blur: the raw bucket's notification (to the function, or to the live queue when live_trigger = \"sqs\"), its events, prefix and suffix."
  value = {
    function_arn = local.live_from_queue ? null : one(aws_s3_bucket_notification.raw.lambda_function).lambda_function_arn
    queue_arn    = local.live_from_queue ? one(aws_s3_bucket_notification.raw.queue).queue_arn : null
    events       = local.live_from_queue ? one(aws_s3_bucket_notification.raw.queue).events : one(aws_s3_bucket_notification.raw.lambda_function).events
    prefix       = local.live_from_queue ? one(aws_s3_bucket_notification.raw.queue).filter_prefix : one(aws_s3_bucket_notification.raw.lambda_function).filter_prefix
    suffix       = local.live_from_queue ? one(aws_s3_bucket_notification.raw.queue).filter_suffix : one(aws_s3_bucket_notification.raw.lambda_function).filter_suffix
  }
}

output "reconciler_mapping_policy" {
  description = "model_reconciler's policy (JSON) on the refine mapping; for review and tests."
  value       = aws_iam_role_policy.reconciler_mapping.policy
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "live_queue_name" {
  description = "The live queue's name (live trigger sqs), or null when S3 invokes live_blur directly."
  value       = local.live_from_queue ? aws_sqs_queue.live[0].name : null
}
