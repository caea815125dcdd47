variable "group_name" {
  description = "Name of the EventBridge Scheduler schedule group that holds both schedules."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-zA-Z._-]{1,64}$", var.group_name))
    error_message = "group_name must be 1-64 characters of letters, digits, . - _."
  }
}

variable "role_name" {
  description = "Name of the IAM role EventBridge Scheduler assumes to invoke the functions."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "function_arns" {
  description = "ARNs of the two scheduled functions: refine_schedule (daily) and model_reconciler (rate)."
  type = object({
    refine_schedule  = string
    model_reconciler = string
  })
  nullable = false
}

variable "schedules" {
  description = "refine_expression (cron) read in refine_time_zone, refine_retry_attempts, reconciler_expression (rate): the stack's refine_schedule_expression, capture_time_zone, refine_schedule_retry_attempts, reconciler_schedule_expression, validated in terraform/variables.tf."
  type = object({
    refine_expression     = string
    refine_time_zone      = string
    refine_retry_attempts = number
    reconciler_expression = string
  })
  nullable = false
}

variable "tags" {
  description = "Tags for the role and the schedule group (schedules take none)."
  type        = map(string)
  default     = {}
  nullable    = false
}
