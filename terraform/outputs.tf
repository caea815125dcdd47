output "raw_bucket" {
  description = "Bucket the cameras upload to."
  value       = module.storage.raw_bucket_name
}

output "blurred_bucket" {
  description = "Bucket that receives the blurred pictures."
  value       = module.storage.blurred_bucket_name
}

output "state_table" {
  description = "Blur-state table."
  value       = module.storage.state_table_name
}

output "kms_key_arn" {
  description = "Main key: blurred pictures, state, logs, Lambda environments and the audit trail."
  value       = module.storage.kms_key_arn
}

output "raw_kms_key_arn" {
  description = "The raw bucket's own key: decrypted only through S3, by the pipeline's readers and the break-glass principals."
  value       = module.storage.raw_kms_key_arn
}

output "camera_uploader_policy" {
  description = "Managed policy (arn, name, document) for cameras: PutObject under the raw prefix and the raw key's GenerateDataKey; no read."
  value       = module.rekognition_iam.access_policies["camera_uploader"]
}

output "blurred_reader_policy" {
  description = "Managed policy (arn, name, document) for the application: GetObject and ListBucket on the blurred bucket, Decrypt with the main key through S3."
  value       = module.rekognition_iam.access_policies["blurred_reader"]
}

output "bucket_policies" {
  description = "The raw and blurred buckets' policies (JSON): who may read raw pictures, who may publish."
  value = {
    raw     = module.storage.raw_bucket_policy
    blurred = module.storage.blurred_bucket_policy
  }
}

output "raw_read_trail" {
  description = "The CloudTrail trail of raw-picture reads (arn, bucket of its log files); null when raw_read_audit is off."
  value       = module.storage.raw_read_trail
}

output "function_names" {
  description = "Lambda function name per function."
  value       = module.pipeline.function_names
}

output "refine_queue_url" {
  description = "Refine queue URL."
  value       = module.queues.refine.url
}

output "model" {
  description = "The Custom Labels model the refinement uses: project_arn, version_arn (camblur status shows its state)."
  value       = { project_arn = var.model_project_arn, version_arn = var.model_version_arn }
}

output "refine_mapping_uuid" {
  description = "UUID of the refine queue's event source mapping (model_reconciler switches it)."
  value       = module.pipeline.refine_mapping_uuid
}

output "raw_notification" {
  description = "What triggers live_blur."
  value       = module.pipeline.raw_notification
}

output "role_names" {
  description = "Execution role name per function."
  value       = { for function, role in module.rekognition_iam.roles : function => role.name }
}

output "iam_policies" {
  description = "Inline policy documents (JSON) per function, for review."
  value       = merge(module.rekognition_iam.policies, { model_reconciler_mapping = module.pipeline.reconciler_mapping_policy })
}

output "refine_schedule" {
  description = "Expression and time zone of the daily refinement."
  value       = module.schedule.refine_schedule
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = module.pipeline.dashboard_name
}

output "queue_names" {
  description = "Every queue of the stack by role: live (null unless live_trigger = sqs), live_dlq, refine, refine_dlq, counts_dlq (camblur status reads their depths)."
  value = {
    live       = module.pipeline.live_queue_name
    live_dlq   = module.queues.live_dlq.name
    refine     = module.queues.refine.name
    refine_dlq = module.queues.refine_dlq.name
    counts_dlq = module.queues.counts_dlq.name
  }
}

output "capture_time_zone" {
  description = "The zone whose calendar days are capture days (camblur status: which day is today)."
  value       = var.capture_time_zone
}
