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
