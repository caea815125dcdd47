output "raw_bucket" {
  description = "Bucket the cameras upload to."
  value       = module.camblur.raw_bucket
}

output "blurred_bucket" {
  description = "Bucket with the blurred pictures."
  value       = module.camblur.blurred_bucket
}

output "state_table" {
  description = "Blur-state table."
  value       = module.camblur.state_table
}

output "kms_key_arn" {
  description = "Key that encrypts the buckets."
  value       = module.camblur.kms_key_arn
}

output "function_names" {
  description = "Lambda function names."
  value       = module.camblur.function_names
}

output "role_names" {
  description = "Execution role per function."
  value       = module.camblur.role_names
}

output "refine_queue_url" {
  description = "Refine queue URL."
  value       = module.camblur.refine_queue_url
}

output "refine_mapping_uuid" {
  description = "UUID of the refine queue's event source mapping."
  value       = module.camblur.refine_mapping_uuid
}

output "raw_notification" {
  description = "What triggers live_blur."
  value       = module.camblur.raw_notification
}

output "queue_names" {
  description = "Every queue of the stack by role (camblur status reads their depths)."
  value       = module.camblur.queue_names
}

output "raw_kms_key_arn" {
  description = "The raw bucket's own key."
  value       = module.camblur.raw_kms_key_arn
}

output "bucket_policies" {
  description = "The raw and blurred buckets' policies (JSON)."
  value       = module.camblur.bucket_policies
}

output "camera_uploader_policy" {
  description = "Managed policy for cameras (arn, name, document)."
  value       = module.camblur.camera_uploader_policy
}

output "blurred_reader_policy" {
  description = "Managed policy for the application (arn, name, document)."
  value       = module.camblur.blurred_reader_policy
}

output "raw_read_trail" {
  description = "The trail of raw-picture reads (arn, bucket), or null."
  value       = module.camblur.raw_read_trail
}

output "model" {
  description = "The Custom Labels model the refinement uses: project_arn, version_arn."
  value       = module.camblur.model
}

output "capture_time_zone" {
  description = "The zone whose calendar days are capture days."
  value       = module.camblur.capture_time_zone
}
