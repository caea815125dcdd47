variable "raw_bucket_name" {
  description = "Name of the bucket the cameras upload raw pictures to."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket_name))
    error_message = "raw_bucket_name must be a valid S3 bucket name: 3-63 characters of a-z, 0-9, '.', '-'."
  }
}

variable "blurred_bucket_name" {
  description = "Name of the bucket that receives the blurred pictures."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.blurred_bucket_name))
    error_message = "blurred_bucket_name must be a valid S3 bucket name: 3-63 characters of a-z, 0-9, '.', '-'."
  }
}

variable "state_table_name" {
  description = "Name of the DynamoDB blur-state table."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.state_table_name))
    error_message = "state_table_name must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'."
  }
}

variable "kms_alias_name" {
  description = "Alias of the customer-managed KMS key, with the alias/ prefix."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+$", var.kms_alias_name)) && !startswith(var.kms_alias_name, "alias/aws/")
    error_message = "kms_alias_name must look like alias/<name> and must not start with alias/aws/."
  }
}

variable "log_group_name_prefix" {
  description = "Log groups whose names start with this may use the key (CloudWatch Logs encryption), e.g. /aws/lambda/camblur-dev-."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.log_group_name_prefix, "/aws/lambda/")
    error_message = "log_group_name_prefix must start with /aws/lambda/ (the functions' log groups)."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before a deleted KMS key is destroyed."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30 (AWS limits)."
  }
}

variable "raw_expiration_days" {
  description = "Raw pictures expire this many days after upload; the daily refinement only needs one or two days."
  type        = number
  default     = 3

  validation {
    condition     = var.raw_expiration_days >= 1 && var.raw_expiration_days <= 3650 && floor(var.raw_expiration_days) == var.raw_expiration_days
    error_message = "raw_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Overwritten or deleted versions (both buckets) are removed after this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete buckets that still hold pictures (for throw-away environments only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "deletion_protection" {
  description = "Protect the state table against deletion."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
