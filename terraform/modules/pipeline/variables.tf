# The settings arrive as objects built in terraform/main.tf; each one is described and
# validated once, in terraform/variables.tf (named there as in the comments below).

variable "function_names" {
  description = "Lambda function name per function; keys live_blur, refine_schedule, refine_worker, model_reconciler, status_counts."
  type        = map(string)
  nullable    = false

  validation {
    condition     = toset(keys(var.function_names)) == toset(["live_blur", "refine_schedule", "refine_worker", "model_reconciler", "status_counts"])
    error_message = "function_names must have exactly the keys live_blur, refine_schedule, refine_worker, model_reconciler, status_counts."
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

variable "code" {
  description = "The one zip of all four functions (make build) and where it runs: lambda_zip_path, lambda_runtime, lambda_architecture."
  type = object({
    zip_path     = string
    runtime      = string
    architecture = string
  })
  nullable = false
}

variable "live" {
  description = "live_blur and its trigger: live_memory_mb, live_timeout_seconds, live_reserved_concurrency, live_max_event_age_seconds, raw_notification_filter, person_min_confidence, plate_detector, live_trigger, live_rekognition_tps, live_rekognition_max_wait_seconds, live_batch_size, live_max_receive_count, live_backlog_age_alarm_seconds."
  type = object({
    memory_mb                    = number
    timeout_seconds              = number
    reserved_concurrency         = number
    max_event_age_seconds        = number
    notification_filter          = object({ prefix = string, suffix = string })
    person_min_confidence        = number
    plate_detector               = string
    trigger                      = string
    rekognition_tps              = number
    rekognition_max_wait_seconds = number
    batch_size                   = number
    max_receive_count            = number
    backlog_age_alarm_seconds    = number
  })
  nullable = false
}

variable "refine" {
  description = "refine_worker and its mapping: worker_memory_mb, worker_timeout_seconds, refine_batch_size, refine_maximum_concurrency (the ceiling the sizing stays under), custom_label_names, custom_min_confidence, refine_rekognition_tps, refine_max_receive_count (the queue's, for the worker to know its last receive), refine_queue_retention_days (the backlog-age alarm); refine_schedule: refine_days_back and the sizing's refine_window_minutes, refine_pictures_per_second_per_unit, refine_worker_seconds_per_picture."
  type = object({
    memory_mb             = number
    timeout_seconds       = number
    batch_size            = number
    maximum_concurrency   = number
    custom_label_names    = list(string)
    custom_min_confidence = number
    days_back             = number
    rekognition_tps       = number
    # The sizing's inputs
    window_minutes               = number
    pictures_per_second_per_unit = number
    worker_seconds_per_picture   = number
    max_receive_count            = number
    queue_retention_days         = number
  })
  nullable = false
}

variable "model" {
  description = "The Custom Labels model: model_project_arn, model_version_arn, model_min_inference_units and model_max_inference_units (the floor and ceiling of the sizing's units), model_max_run_minutes (the watchdog's ceiling), model_drain_confirm_seconds."
  type = object({
    project_arn           = string
    version_arn           = string
    min_inference_units   = number
    max_inference_units   = number
    max_run_minutes       = number
    drain_confirm_seconds = number
  })
  nullable = false
}

variable "blur" {
  description = "How both passes blur (style, margin, jpeg_quality) and which pictures they refuse (max_image_pixels, max_object_bytes): the stack's blur."
  type = object({
    style            = string
    margin           = number
    jpeg_quality     = number
    max_image_pixels = number
    max_object_bytes = number
  })
  nullable = false
}

variable "state" {
  description = "How state items are dated and kept: capture_time_zone (a capture day), state_ttl_days."
  type = object({
    capture_time_zone = string
    ttl_days          = number
  })
  nullable = false
}

variable "operations" {
  description = "log_retention_days, log_level, metrics_namespace; alarm_topic_arn (null: the module creates the topic alarm_topic_name and subscribes alarm_emails)."
  type = object({
    log_retention_days = number
    log_level          = string
    metrics_namespace  = string
    alarm_topic_arn    = string
    alarm_topic_name   = string
    alarm_emails       = list(string)
  })
  nullable = false
}

variable "storage" {
  description = "From modules/storage: the buckets (names; the raw one's ARN for the trigger), the table's name and the key's ARN."
  type = object({
    raw_bucket_name       = string
    raw_bucket_arn        = string
    blurred_bucket_name   = string
    artifacts_bucket_name = string
    state_table_name      = string
    state_stream_arn      = string
    kms_key_arn           = string
  })
  nullable = false
}

variable "queues" {
  description = "From modules/queues: live_dlq, refine, refine_dlq, counts_dlq (arn, name; url for refine)."
  type = object({
    live_dlq   = object({ arn = string, name = string })
    refine     = object({ arn = string, name = string, url = string })
    refine_dlq = object({ arn = string, name = string })
    counts_dlq = object({ arn = string, name = string })
  })
  nullable = false
}

variable "roles" {
  description = "From modules/rekognition_iam: execution role (arn, name) per function, same keys as function_names."
  type = map(object({
    arn  = string
    name = string
  }))
  nullable = false
}

variable "tags" {
  description = "Tags for every resource that takes tags."
  type        = map(string)
  default     = {}
  nullable    = false
}
