variable "role_names" {
  description = "IAM role name per function; keys live_blur, refine_schedule, refine_worker, model_reconciler."
  type        = map(string)
  nullable    = false

  validation {
    condition     = toset(keys(var.role_names)) == toset(["live_blur", "refine_schedule", "refine_worker", "model_reconciler"])
    error_message = "role_names must have exactly the keys live_blur, refine_schedule, refine_worker, model_reconciler."
  }
}

variable "raw_bucket_arn" {
  description = "ARN of the raw-images bucket."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.raw_bucket_arn, "arn:")
    error_message = "raw_bucket_arn must be an ARN (arn:...)."
  }
}

variable "blurred_bucket_arn" {
  description = "ARN of the blurred-images bucket."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.blurred_bucket_arn, "arn:")
    error_message = "blurred_bucket_arn must be an ARN (arn:...)."
  }
}

variable "state_table_arn" {
  description = "ARN of the blur-state table."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.state_table_arn, "arn:")
    error_message = "state_table_arn must be an ARN (arn:...)."
  }
}

variable "capture_day_index_arn" {
  description = "ARN of the state table's by_capture_day index."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.capture_day_index_arn, "arn:")
    error_message = "capture_day_index_arn must be an ARN (arn:...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the key that encrypts buckets and table."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.kms_key_arn, "arn:")
    error_message = "kms_key_arn must be an ARN (arn:...)."
  }
}

variable "live_dlq_arn" {
  description = "ARN of the live function's failure queue (async on-failure destination)."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.live_dlq_arn, "arn:")
    error_message = "live_dlq_arn must be an ARN (arn:...)."
  }
}

variable "refine_queue_arn" {
  description = "ARN of the refine queue."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.refine_queue_arn, "arn:")
    error_message = "refine_queue_arn must be an ARN (arn:...)."
  }
}

variable "refine_mapping_arn" {
  description = "ARN of the refine queue's event source mapping (arn:...:event-source-mapping:UUID), which the reconciler switches on and off."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.refine_mapping_arn, "arn:")
    error_message = "refine_mapping_arn must be an ARN (arn:...)."
  }
}

variable "log_group_arns" {
  description = "Log group ARN per function (same keys as role_names)."
  type        = map(string)
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.log_group_arns) : startswith(arn, "arn:")])
    error_message = "Every value of log_group_arns must be an ARN (arn:...)."
  }
}

variable "model_project_arn" {
  description = "ARN of the Rekognition Custom Labels project."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.model_project_arn, "arn:")
    error_message = "model_project_arn must be an ARN (arn:...)."
  }
}

variable "model_version_arn" {
  description = "ARN of the Custom Labels project version (the model)."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.model_version_arn, "arn:")
    error_message = "model_version_arn must be an ARN (arn:...)."
  }
}

variable "tags" {
  description = "Tags for every role."
  type        = map(string)
  default     = {}
  nullable    = false
}
