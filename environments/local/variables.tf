variable "aws_endpoint_url" {
  description = "URL of the embedded AWS endpoint (python -m localaws.embedded url)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/]+/?$", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be a URL such as http://127.0.0.1:5000."
  }
}

variable "region" {
  description = "Region the embedded endpoint pretends to be."
  type        = string
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  description = "Lambda zip built by make build, relative to this folder."
  type        = string
  default     = "../../dist/camblur-lambda.zip"
}

variable "model_project_arn" {
  description = "Custom Labels project ARN (does not have to exist: moto's account is 123456789012)."
  type        = string
}

variable "model_version_arn" {
  description = "Custom Labels model ARN (does not have to exist)."
  type        = string
}

# Settings passed on to the stack, which describes and validates them (terraform/variables.tf);
# null, when terraform.tfvars does not set them, means the stack's default.
variable "capture_time_zone" {
  description = "IANA time zone of the capture day (stack default: UTC)."
  type        = string
  default     = null
}

variable "raw_notification_filter" {
  description = "Which new raw objects trigger live_blur: prefix, suffix (stack default: any)."
  type = object({
    prefix = optional(string)
    suffix = optional(string)
  })
  default = null
}

variable "live_trigger" {
  description = "How S3 reaches live_blur: sqs (through the live queue) or s3_async (stack default: sqs)."
  type        = string
  default     = "sqs"
}
