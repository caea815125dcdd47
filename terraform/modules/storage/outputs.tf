output "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts buckets, table, logs and Lambda environments."
  value       = aws_kms_key.this.arn
}

output "raw_bucket_name" {
  description = "Name of the raw-images bucket."
  value       = aws_s3_bucket.this["raw"].bucket
}

output "raw_bucket_arn" {
  description = "ARN of the raw-images bucket."
  value       = aws_s3_bucket.this["raw"].arn
}

output "blurred_bucket_name" {
  description = "Name of the blurred-images bucket."
  value       = aws_s3_bucket.this["blurred"].bucket
}

output "blurred_bucket_arn" {
  description = "ARN of the blurred-images bucket."
  value       = aws_s3_bucket.this["blurred"].arn
}

output "state_table_name" {
  description = "Name of the blur-state table."
  value       = aws_dynamodb_table.this.name
}

output "state_table_arn" {
  description = "ARN of the blur-state table."
  value       = aws_dynamodb_table.this.arn
}

output "capture_day_index_arn" {
  description = "ARN of the by_capture_day index (refine_schedule queries it)."
  value       = "${aws_dynamodb_table.this.arn}/index/${local.capture_day_index}"
}

output "artifacts_bucket_name" {
  description = "Name of the bucket the Lambda zip is deployed from."
  value       = aws_s3_bucket.this["artifacts"].bucket
}
