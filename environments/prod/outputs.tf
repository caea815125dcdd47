output "raw_bucket" {
  description = "Bucket the cameras upload to."
  value       = module.camblur.raw_bucket
}

output "blurred_bucket" {
  description = "Bucket with the blurred pictures."
  value       = module.camblur.blurred_bucket
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
