variable "function_names" {
  description = "Lambda function name per function; keys live_blur, refine_schedule, refine_worker, model_reconciler."
  type        = map(string)
  nullable    = false

  validation {
    condition     = toset(keys(var.function_names)) == toset(["live_blur", "refine_schedule", "refine_worker", "model_reconciler"])
    error_message = "function_names must have exactly the keys live_blur, refine_schedule, refine_worker, model_reconciler."
  }
}

variable "queue_names" {
  description = "SQS queue names; keys live_dlq, refine, refine_dlq."
  type        = map(string)
  nullable    = false

  validation {
    condition     = toset(keys(var.queue_names)) == toset(["live_dlq", "refine", "refine_dlq"])
    error_message = "queue_names must have exactly the keys live_dlq, refine, refine_dlq."
  }
}

variable "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.dashboard_name))
    error_message = "dashboard_name must be 1-255 characters of letters, digits, - and _."
  }
}

variable "role_arns" {
  description = "Execution role ARN per function (same keys as function_names)."
  type        = map(string)
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.role_arns) : startswith(arn, "arn:")])
    error_message = "Every value of role_arns must be an ARN (arn:...)."
  }
}

variable "lambda_zip_path" {
  description = "Path of the one zip that holds the camblur package for all four functions (make build)."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime of every function."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of: python3.12, python3.13."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function; the zip's compiled wheels (Pillow) must match."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be one of: arm64, x86_64."
  }
}

variable "live_memory_mb" {
  description = "Memory of live_blur; more memory also means more CPU for the blur."
  type        = number
  default     = 1024

  validation {
    condition     = var.live_memory_mb >= 256 && var.live_memory_mb <= 10240
    error_message = "live_memory_mb must be between 256 and 10240."
  }
}

variable "live_timeout_seconds" {
  description = "Timeout of live_blur."
  type        = number
  default     = 60

  validation {
    condition     = var.live_timeout_seconds >= 10 && var.live_timeout_seconds <= 900
    error_message = "live_timeout_seconds must be between 10 and 900."
  }
}

variable "live_reserved_concurrency" {
  description = "Reserved concurrency of live_blur: one DetectLabels call per picture, so this caps the call rate near the account's DetectLabels TPS quota."
  type        = number
  default     = 20

  validation {
    condition     = var.live_reserved_concurrency >= 1 && var.live_reserved_concurrency <= 1000
    error_message = "live_reserved_concurrency must be between 1 and 1000."
  }
}

variable "worker_memory_mb" {
  description = "Memory of refine_worker."
  type        = number
  default     = 1024

  validation {
    condition     = var.worker_memory_mb >= 256 && var.worker_memory_mb <= 10240
    error_message = "worker_memory_mb must be between 256 and 10240."
  }
}

variable "worker_timeout_seconds" {
  description = "Timeout of refine_worker; the refine queue's visibility timeout is six times this."
  type        = number
  default     = 120

  validation {
    condition     = var.worker_timeout_seconds >= 10 && var.worker_timeout_seconds <= 900
    error_message = "worker_timeout_seconds must be between 10 and 900."
  }
}

variable "refine_batch_size" {
  description = "Messages per refine_worker invocation."
  type        = number
  default     = 5

  validation {
    condition     = var.refine_batch_size >= 1 && var.refine_batch_size <= 10
    error_message = "refine_batch_size must be between 1 and 10 (above 10 SQS needs a batching window)."
  }
}

variable "refine_maximum_concurrency" {
  description = "At most this many refine_worker invocations at once (mapping scaling_config); keep it within the model's inference units."
  type        = number
  default     = 2

  validation {
    condition     = var.refine_maximum_concurrency >= 2 && var.refine_maximum_concurrency <= 1000
    error_message = "refine_maximum_concurrency must be between 2 and 1000 (AWS limits)."
  }
}

variable "refine_max_receive_count" {
  description = "A refine message goes to the dead-letter queue after this many receives."
  type        = number
  default     = 5

  validation {
    condition     = var.refine_max_receive_count >= 1 && var.refine_max_receive_count <= 1000
    error_message = "refine_max_receive_count must be between 1 and 1000."
  }
}

variable "raw_bucket_name" {
  description = "Name of the raw-images bucket (trigger and RAW_BUCKET)."
  type        = string
  nullable    = false
}

variable "raw_bucket_arn" {
  description = "ARN of the raw-images bucket (permission source)."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.raw_bucket_arn, "arn:")
    error_message = "raw_bucket_arn must be an ARN (arn:...)."
  }
}

variable "blurred_bucket_name" {
  description = "Name of the blurred-images bucket (BLURRED_BUCKET)."
  type        = string
  nullable    = false
}

variable "state_table_name" {
  description = "Name of the blur-state table (STATE_TABLE)."
  type        = string
  nullable    = false
}

variable "kms_key_arn" {
  description = "Key for log groups and Lambda environment variables."
  type        = string
  nullable    = false

  validation {
    condition     = startswith(var.kms_key_arn, "arn:")
    error_message = "kms_key_arn must be an ARN (arn:...)."
  }
}

variable "raw_notification_filter" {
  description = "Which new raw objects trigger live_blur: key prefix and suffix (empty = any)."
  type = object({
    prefix = optional(string, "")
    suffix = optional(string, "")
  })
  default  = {}
  nullable = false
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of: DEBUG, INFO, WARNING, ERROR."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "camblur"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits, . - _ / # : and must not start with AWS/."
  }
}

variable "blur" {
  description = "How pictures are blurred (BLUR_STYLE, BLUR_MARGIN, JPEG_QUALITY) and which are refused (MAX_IMAGE_PIXELS, MAX_OBJECT_BYTES)."
  type = object({
    style            = string
    margin           = number
    jpeg_quality     = number
    max_image_pixels = number
    max_object_bytes = number
  })
  nullable = false

  validation {
    condition     = contains(["pixelate", "gaussian", "solid"], var.blur.style)
    error_message = "blur.style must be one of: pixelate, gaussian, solid."
  }
}

variable "person_min_confidence" {
  description = "DetectLabels MinConfidence for Person (PERSON_MIN_CONFIDENCE)."
  type        = number
  nullable    = false

  validation {
    condition     = var.person_min_confidence >= 0 && var.person_min_confidence <= 100
    error_message = "person_min_confidence must be between 0 and 100."
  }
}

variable "plate_detector" {
  description = "Plate localiser inside vehicle boxes (PLATE_DETECTOR): packaged_ocr, rekognition_text or none."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["packaged_ocr", "rekognition_text", "none"], var.plate_detector)
    error_message = "plate_detector must be one of: packaged_ocr, rekognition_text, none."
  }
}

variable "capture_time_zone" {
  description = "IANA time zone that defines a capture day (CAPTURE_TIME_ZONE)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$", var.capture_time_zone))
    error_message = "capture_time_zone must be UTC or an IANA zone such as Europe/Paris."
  }
}

variable "state_ttl_days" {
  description = "State items expire after this many days (STATE_TTL_DAYS)."
  type        = number
  nullable    = false

  validation {
    condition     = var.state_ttl_days >= 1
    error_message = "state_ttl_days must be at least 1."
  }
}

variable "model" {
  description = "The Custom Labels model: ARNs, inference units, watchdog (MODEL_* variables)."
  type = object({
    project_arn         = string
    version_arn         = string
    min_inference_units = number
    max_inference_units = number
    max_run_minutes     = number
    # Two empty queue readings at least this far apart before the model is stopped.
    drain_confirm_seconds = optional(number, 45)
  })
  nullable = false

  validation {
    condition     = var.model.min_inference_units >= 1 && var.model.max_inference_units >= var.model.min_inference_units && var.model.max_run_minutes >= 1 && var.model.drain_confirm_seconds >= 1
    error_message = "model needs min_inference_units >= 1, max_inference_units >= min_inference_units, max_run_minutes >= 1 and drain_confirm_seconds >= 1."
  }
}

variable "custom_label_names" {
  description = "Custom labels that are blurred (CUSTOM_LABEL_NAMES)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.custom_label_names) > 0 && alltrue([for name in var.custom_label_names : !strcontains(name, ",")])
    error_message = "custom_label_names must list at least one label, none containing a comma."
  }
}

variable "custom_min_confidence" {
  description = "DetectCustomLabels MinConfidence (CUSTOM_MIN_CONFIDENCE)."
  type        = number
  nullable    = false

  validation {
    condition     = var.custom_min_confidence >= 0 && var.custom_min_confidence <= 100
    error_message = "custom_min_confidence must be between 0 and 100."
  }
}

variable "refine_days_back" {
  description = "Which capture day refine_schedule refines: today minus this (REFINE_DAYS_BACK)."
  type        = number
  nullable    = false

  validation {
    condition     = var.refine_days_back >= 0
    error_message = "refine_days_back must be 0 or more."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic that alarms notify; null for alarms without actions."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource that takes tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "live_max_event_age_seconds" {
  description = "How long S3 events for live_blur are retried before they go to the live DLQ. Keep it below the gap between the end of a capture day and the refinement schedule."
  type        = number
  default     = 3600
  validation {
    condition     = var.live_max_event_age_seconds >= 60 && var.live_max_event_age_seconds <= 21600
    error_message = "live_max_event_age_seconds must be between 60 and 21600 (Lambda's limits)."
  }
}
