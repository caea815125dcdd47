variable "names" {
  description = "Names of what the module creates: the raw, blurred, artifacts and audit buckets, the table, the keys' aliases (alias/...), the raw-read trail, and the prefix of the log groups that may use the main key (/aws/lambda/...)."
  type = object({
    raw_bucket       = string
    blurred_bucket   = string
    artifacts_bucket = string
    audit_bucket     = string
    state_table      = string
    kms_alias        = string
    raw_kms_alias    = string
    raw_read_trail   = string
    log_group_prefix = string
  })
  nullable = false

  # Names are built by the stack, not set by a user: these guard the module's own contract.
  validation {
    condition     = alltrue([for name in [var.names.raw_bucket, var.names.blurred_bucket, var.names.artifacts_bucket, var.names.audit_bucket] : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", name))])
    error_message = "names.raw_bucket, names.blurred_bucket, names.artifacts_bucket and names.audit_bucket must be valid S3 bucket names: 3-63 characters of a-z, 0-9, '.', '-'."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.names.state_table))
    error_message = "names.state_table must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'."
  }
  validation {
    condition     = alltrue([for alias in [var.names.kms_alias, var.names.raw_kms_alias] : can(regex("^alias/[a-zA-Z0-9/_-]+$", alias)) && !startswith(alias, "alias/aws/")]) && var.names.kms_alias != var.names.raw_kms_alias
    error_message = "names.kms_alias and names.raw_kms_alias must differ, look like alias/<name> and not start with alias/aws/."
  }
  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._-]{1,126}[a-zA-Z0-9]$", var.names.raw_read_trail))
    error_message = "names.raw_read_trail must be a CloudTrail trail name: 3-128 characters of letters, digits, '.', '_', '-', starting and ending with a letter or digit."
  }
  validation {
    condition     = startswith(var.names.log_group_prefix, "/aws/lambda/")
    error_message = "names.log_group_prefix must start with /aws/lambda/ (the functions' log groups)."
  }
}

variable "settings" {
  description = "Retention, protection and audit: raw_retention_days, artifact_retention_days, kms_deletion_window_days, force_destroy, deletion_protection, raw_read_audit, audit_retention_days (log_retention_days). Described and validated in terraform/variables.tf."
  type = object({
    raw_retention_days       = number
    artifact_retention_days  = number
    kms_deletion_window_days = number
    force_destroy            = bool
    deletion_protection      = bool
    raw_read_audit           = bool
    audit_retention_days     = number
  })
  nullable = false
}

variable "access" {
  description = "Who may touch the pictures beyond IAM: raw_reader_arns (the pipeline roles that read raw pictures), blurred_writer_arns (the roles that publish), break_glass_principal_arns (raw_break_glass_principal_arns). IAM principal ARNs, matched on aws:PrincipalArn."
  type = object({
    raw_reader_arns            = list(string)
    blurred_writer_arns        = list(string)
    break_glass_principal_arns = list(string)
  })
  nullable = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
