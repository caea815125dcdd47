variable "role_names" {
  description = "IAM role name per function; keys live_blur, refine_schedule, refine_worker, model_reconciler, status_counts."
  type        = map(string)
  nullable    = false

  validation {
    condition     = toset(keys(var.role_names)) == toset(["live_blur", "refine_schedule", "refine_worker", "model_reconciler", "status_counts"])
    error_message = "role_names must have exactly the keys live_blur, refine_schedule, refine_worker, model_reconciler, status_counts."
  }
}

variable "log_group_names" {
  description = "Log group name per function (same keys as role_names); each role may write its own only."
  type        = map(string)
  nullable    = false
}

variable "resources" {
  description = "ARNs of what the functions use: both buckets, the state table and its by_capture_day index, the main key and the raw bucket's key, the live DLQ, the refine queue, the table's stream and the counts DLQ (modules/storage and modules/queues)."
  type = object({
    raw_bucket_arn        = string
    blurred_bucket_arn    = string
    state_table_arn       = string
    capture_day_index_arn = string
    kms_key_arn           = string
    raw_kms_key_arn       = string
    live_dlq_arn          = string
    refine_queue_arn      = string
    state_stream_arn      = string
    counts_dlq_arn        = string
  })
  nullable = false
}

variable "access_policy_names" {
  description = "Names of the two managed policies for who is not the pipeline: camera_uploader, blurred_reader."
  type = object({
    camera_uploader = string
    blurred_reader  = string
  })
  nullable = false
}

variable "raw_upload_prefix" {
  description = "Where cameras upload: the live trigger's key prefix (raw_notification_filter.prefix; \"\" for the whole bucket)."
  type        = string
  nullable    = false
}

variable "model" {
  description = "The Custom Labels project and model (project version) ARNs, validated in terraform/variables.tf."
  type = object({
    project_arn = string
    version_arn = string
  })
  nullable = false
}

variable "tags" {
  description = "Tags for every role."
  type        = map(string)
  default     = {}
  nullable    = false
}
