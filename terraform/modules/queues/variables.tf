variable "names" {
  description = "Queue names: live_dlq (live_blur's failures), refine, refine_dlq, counts_dlq (status_counts' stream batches that failed every retry)."
  type = object({
    live_dlq   = string
    refine     = string
    refine_dlq = string
    counts_dlq = string
  })
  nullable = false
}

variable "refine" {
  description = "The refine queue's consumer timeout (refine_worker's, in seconds), the receives before a message is dead-lettered and the days a message is kept. Validated in terraform/variables.tf."
  type = object({
    consumer_timeout_seconds = number
    max_receive_count        = number
    retention_days           = number
  })
  nullable = false
}

variable "tags" {
  description = "Tags for every queue."
  type        = map(string)
  default     = {}
  nullable    = false
}
