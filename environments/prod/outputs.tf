output "raw_bucket" {
  description = "Bucket the cameras upload to."
  value       = module.camblur.raw_bucket
}

output "blurred_bucket" {
  description = "Bucket with the blurred pictures."
  value       = module.camblur.blurred_bucket
}

output "state_table" {
  description = "Blur-state table (camblur reads it)."
  value       = module.camblur.state_table
}

output "refine_queue_url" {
  description = "Refine queue URL (camblur reprocess --pass refine sends to it)."
  value       = module.camblur.refine_queue_url
}

output "raw_notification" {
  description = "What triggers live_blur (camblur reprocess lists the raw pictures under its prefix)."
  value       = module.camblur.raw_notification
}

output "function_names" {
  description = "Lambda function names."
  value       = module.camblur.function_names
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = module.camblur.dashboard_name
}

output "queue_names" {
  description = "Every queue of the stack by role (camblur status reads their depths)."
  value       = module.camblur.queue_names
}

output "camera_uploader_policy" {
  description = "Attach to your cameras' IAM users or roles: upload raw pictures, read nothing (arn, name, document)."
  value       = module.camblur.camera_uploader_policy
}

output "blurred_reader_policy" {
  description = "Attach to your application's IAM role: read the current blurred pictures (arn, name, document)."
  value       = module.camblur.blurred_reader_policy
}

output "raw_read_trail" {
  description = "The CloudTrail trail of raw-picture reads (arn, bucket of its log files), or null."
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
