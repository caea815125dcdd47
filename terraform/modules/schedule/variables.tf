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

variable "refine_schedule_function_arn" {
  description = "ARN of refine_schedule (daily)."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.refine_schedule_function_arn, "arn:")
    error_message = "refine_schedule_function_arn must be an ARN (arn:...)."
  }
}

variable "model_reconciler_function_arn" {
  description = "ARN of model_reconciler (every minute by default)."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.model_reconciler_function_arn, "arn:")
    error_message = "model_reconciler_function_arn must be an ARN (arn:...)."
  }
}

variable "refine_schedule_expression" {
  description = "When the daily refinement starts: an EventBridge Scheduler cron() expression, read in refine_schedule_time_zone."
  type        = string
  default     = "cron(30 2 * * ? *)"

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.refine_schedule_expression))
    error_message = "refine_schedule_expression must be a cron(...) expression, e.g. cron(30 2 * * ? *)."
  }
}

variable "refine_schedule_time_zone" {
  description = "IANA time zone of refine_schedule_expression (daylight saving time is followed)."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$", var.refine_schedule_time_zone))
    error_message = "refine_schedule_time_zone must be UTC or an IANA zone such as Europe/Paris."
  }
}

variable "reconciler_schedule_expression" {
  description = "How often model_reconciler runs: rate(...) expression."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^rate\\(([1-9][0-9]*) (minute|minutes|hour|hours)\\)$", var.reconciler_schedule_expression))
    error_message = "reconciler_schedule_expression must be rate(N minute[s]) or rate(N hour[s]), e.g. rate(1 minute)."
  }
}

variable "retry_attempts" {
  description = "How often the scheduler retries an invocation that Lambda refused (throttled, for instance)."
  type        = number
  default     = 2

  validation {
    condition     = var.retry_attempts >= 0 && var.retry_attempts <= 185
    error_message = "retry_attempts must be between 0 and 185."
  }
}

variable "tags" {
  description = "Tags for the role and the schedule group (schedules take none)."
  type        = map(string)
  default     = {}
  nullable    = false
}
