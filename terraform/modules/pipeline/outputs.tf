output "function_arns" {
  description = "Function ARN per function."
  value       = { for key, fn in local.all_functions : key => fn.arn }
}

output "function_names" {
  description = "Function name per function."
  value       = { for key, fn in local.all_functions : key => fn.function_name }
}

output "log_group_arns" {
  description = "Log group ARN per function."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.arn }
}

output "live_dlq_arn" {
  description = "ARN of live_blur's failure queue."
  value       = aws_sqs_queue.live_dlq.arn
}

output "refine_queue_arn" {
  description = "ARN of the refine queue."
  value       = aws_sqs_queue.refine.arn
}

output "refine_queue_url" {
  description = "URL of the refine queue."
  value       = aws_sqs_queue.refine.url
}

output "refine_dlq_arn" {
  description = "ARN of the refine dead-letter queue."
  value       = aws_sqs_queue.refine_dlq.arn
}

output "refine_mapping_arn" {
  description = "ARN of the refine queue's event source mapping."
  value       = aws_lambda_event_source_mapping.refine.arn
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

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
