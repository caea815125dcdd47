output "kms_key_arn" {
  description = "ARN of the main key: blurred and artifacts buckets, table, logs, Lambda environments, audit trail."
  value       = aws_kms_key.this.arn
}

output "raw_kms_key_arn" {
  description = "ARN of the raw bucket's own key (decrypted only through S3 by the raw readers)."
  value       = aws_kms_key.raw.arn
}

output "raw_bucket_policy" {
  description = "The raw bucket's policy (JSON), for review and tests."
  value       = aws_s3_bucket_policy.this["raw"].policy
}

output "blurred_bucket_policy" {
  description = "The blurred bucket's policy (JSON), for review and tests."
  value       = aws_s3_bucket_policy.this["blurred"].policy
}

output "raw_read_trail" {
  description = "The trail of raw-picture reads (arn, bucket of its log files), or null when raw_read_audit is off."
  value       = var.settings.raw_read_audit ? { arn = aws_cloudtrail.raw_reads[0].arn, bucket = aws_s3_bucket.this["audit"].bucket } : null
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

output "state_table_stream_arn" {
  description = "The state table's stream (new and old images), which status_counts reads."
  value       = aws_dynamodb_table.this.stream_arn
}

output "capture_day_index_arn" {
  description = "ARN of the by_capture_day index (refine_schedule queries it)."
  value       = "${aws_dynamodb_table.this.arn}/index/${local.capture_day_index}"
}

output "artifacts_bucket_name" {
  description = "Name of the bucket the Lambda zip is deployed from."
  value       = aws_s3_bucket.this["artifacts"].bucket
}
