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
  description = "What triggers live_blur: events, prefix and suffix of the raw bucket's notification."
  value = {
    function_arn = one(aws_s3_bucket_notification.raw.lambda_function).lambda_function_arn
    events       = one(aws_s3_bucket_notification.raw.lambda_function).events
    prefix       = one(aws_s3_bucket_notification.raw.lambda_function).filter_prefix
    suffix       = one(aws_s3_bucket_notification.raw.lambda_function).filter_suffix
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
