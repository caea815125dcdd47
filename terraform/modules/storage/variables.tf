variable "names" {
  description = "Names of what the module creates: the raw, blurred and artifacts buckets, the table, the key's alias (alias/...), and the prefix of the log groups that may use the key (/aws/lambda/...)."
  type = object({
    raw_bucket       = string
    blurred_bucket   = string
    artifacts_bucket = string
    state_table      = string
    kms_alias        = string
    log_group_prefix = string
  })
  nullable = false

  # Names are built by the stack, not set by a user: these guard the module's own contract.
  validation {
    condition     = alltrue([for name in [var.names.raw_bucket, var.names.blurred_bucket, var.names.artifacts_bucket] : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", name))])
    error_message = "names.raw_bucket, names.blurred_bucket and names.artifacts_bucket must be valid S3 bucket names: 3-63 characters of a-z, 0-9, '.', '-'."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.names.state_table))
    error_message = "names.state_table must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'."
  }
  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+$", var.names.kms_alias)) && !startswith(var.names.kms_alias, "alias/aws/")
    error_message = "names.kms_alias must look like alias/<name> and must not start with alias/aws/."
  }
  validation {
    condition     = startswith(var.names.log_group_prefix, "/aws/lambda/")
    error_message = "names.log_group_prefix must start with /aws/lambda/ (the functions' log groups)."
  }
}

variable "settings" {
  description = "Retention and protection: raw_retention_days, artifact_retention_days, kms_deletion_window_days, force_destroy, deletion_protection. Described and validated in terraform/variables.tf."
  type = object({
    raw_retention_days       = number
    artifact_retention_days  = number
    kms_deletion_window_days = number
    force_destroy            = bool
    deletion_protection      = bool
  })
  nullable = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
