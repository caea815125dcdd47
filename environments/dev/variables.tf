variable "region" {
  description = "AWS region of the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "The provider refuses to touch any other account (guards against a wrong profile)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must list at least one 12-digit account ID."
  }
}

variable "lambda_zip_path" {
  description = "Lambda zip built by make build, relative to this folder."
  type        = string
  default     = "../../dist/camblur-lambda.zip"
}

variable "model_project_arn" {
  description = "ARN of the Rekognition Custom Labels project."
  type        = string
}

variable "model_version_arn" {
  description = "ARN of the Custom Labels model (project version) to run."
  type        = string
}

# Settings passed on to the stack, which describes and validates them (terraform/variables.tf);
# null, when terraform.tfvars does not set them, means the stack's default.
variable "capture_time_zone" {
  description = "IANA time zone of the sites' capture day (stack default: UTC)."
  type        = string
  default     = null
}

variable "live_reserved_concurrency" {
  description = "Reserved concurrency of live_blur, at or under the account's DetectLabels TPS quota (stack default: 20)."
  type        = number
  default     = null
}

variable "alarm_topic_arn" {
  description = "An SNS topic of your own for the alarms; null: the stack creates one."
  type        = string
  default     = null
}

variable "alarm_emails" {
  description = "Who the stack's alarm topic emails (each address confirms once)."
  type        = list(string)
  default     = null
}

variable "tags" {
  description = "Extra tags (cost centre, owner, ...)."
  type        = map(string)
  default     = null
}
