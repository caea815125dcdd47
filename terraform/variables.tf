# ---------------------------------------------------------------- identity
variable "project" {
  description = "Project name: first part of every resource name."
  type        = string
  default     = "camblur"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.project))
    error_message = "project must be 3-20 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "environment" {
  description = "Environment name: second part of every resource name."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["dev", "prod", "local"], var.environment)
    error_message = "environment must be one of: dev, prod, local."
  }
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
  nullable    = false
}

# ---------------------------------------------------------------- code
variable "lambda_zip_path" {
  description = "Path of the Lambda zip built by make build (dist/camblur-lambda.zip)."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file (make build writes dist/camblur-lambda.zip)."
  }
}

variable "lambda_runtime" {
  description = "Lambda runtime; must match LAMBDA_PYTHON in the Makefile (the zip's compiled wheels)."
  type        = string
  default     = "python3.13"
  nullable    = false

  validation {
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be one of: python3.12, python3.13."
  }
}

variable "lambda_architecture" {
  description = "Lambda architecture; must match LAMBDA_ARCH in the Makefile (the zip's compiled wheels)."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be one of: arm64, x86_64."
  }
}

# ---------------------------------------------------------------- storage
variable "raw_retention_days" {
  description = "No raw picture version (current, overwritten, deleted) outlives this many days after upload: current versions expire a day before, every noncurrent version and delete marker one day after it appears (S3's minimum). The refinement needs the raw pictures of the day it refines."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.raw_retention_days >= 2 && var.raw_retention_days <= 3650 && floor(var.raw_retention_days) == var.raw_retention_days
    error_message = "raw_retention_days must be a whole number between 2 and 3650 (one day current, one day noncurrent at least)."
  }
}

variable "raw_break_glass_principal_arns" {
  description = "IAM principals (role or user ARNs; * wildcards allowed) that may read raw pictures besides the pipeline's roles, for an incident: the raw bucket's policy denies reads to everyone else, and the raw key decrypts for no one else. Empty: nobody but the pipeline. Every read is in the raw-read trail (raw_read_audit)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.raw_break_glass_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "raw_break_glass_principal_arns must be IAM role or user ARNs (arn:aws:iam::<12-digit account>:role/<name> or :user/<name>)."
  }
}

variable "raw_read_audit" {
  description = "Log every read of a raw picture (CloudTrail data events of the raw bucket's objects, read-only) to an audit bucket of the stack, kept log_retention_days. About $0.10 per 100,000 reads (a few reads a picture)."
  type        = bool
  default     = true
  nullable    = false
}

variable "artifact_retention_days" {
  description = "Lambda zips a newer build replaced are removed from the artifacts bucket this many days later (a rollback window)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.artifact_retention_days >= 1 && var.artifact_retention_days <= 3650 && floor(var.artifact_retention_days) == var.artifact_retention_days
    error_message = "artifact_retention_days must be a whole number between 1 and 3650."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (throw-away environments only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "deletion_protection" {
  description = "Protect the state table against deletion."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before a deleted KMS key is destroyed."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "state_ttl_days" {
  description = "State items expire (DynamoDB TTL on expires_at) this many days after they are written."
  type        = number
  default     = 400
  nullable    = false

  validation {
    condition     = var.state_ttl_days >= 1 && floor(var.state_ttl_days) == var.state_ttl_days
    error_message = "state_ttl_days must be a positive whole number."
  }
}

# ---------------------------------------------------------------- live blur
variable "raw_notification_filter" {
  description = "Which new raw objects trigger live_blur: key prefix and suffix (empty = any). S3 allows one suffix per rule."
  type = object({
    prefix = optional(string, "")
    suffix = optional(string, "")
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.raw_notification_filter.prefix) <= 1024 && length(var.raw_notification_filter.suffix) <= 1024 && !startswith(var.raw_notification_filter.prefix, "/")
    error_message = "raw_notification_filter.prefix must not start with '/' (S3 keys do not), and prefix and suffix are at most 1024 characters."
  }
}

variable "live_memory_mb" {
  description = "Memory of live_blur in MB. A 2160p blur peaks near 90 MB RSS; more memory also buys CPU."
  type        = number
  default     = 1024
  nullable    = false

  validation {
    condition     = var.live_memory_mb >= 256 && var.live_memory_mb <= 10240
    error_message = "live_memory_mb must be between 256 and 10240."
  }
}

variable "live_timeout_seconds" {
  description = "Timeout of live_blur in seconds."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.live_timeout_seconds >= 10 && var.live_timeout_seconds <= 900
    error_message = "live_timeout_seconds must be between 10 and 900."
  }
}

variable "live_reserved_concurrency" {
  description = "Reserved concurrency of live_blur, and the live mapping's maximum concurrency: live_rekognition_tps x the measured time per picture (0.38 s: DetectLabels 0.27 s, S3, Pillow) x 1.25 headroom, rounded up; 24 for the default 50 TPS (README: Scale). The account must keep 100 unreserved."
  type        = number
  default     = 24
  nullable    = false

  validation {
    condition     = var.live_reserved_concurrency >= 1 && var.live_reserved_concurrency <= 1000
    error_message = "live_reserved_concurrency must be between 1 and 1000."
  }
}

variable "live_max_event_age_seconds" {
  description = "How long S3 events for live_blur are retried before they go to the live DLQ. Keep it below the gap between the end of a capture day and the refinement schedule."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.live_max_event_age_seconds >= 60 && var.live_max_event_age_seconds <= 21600
    error_message = "live_max_event_age_seconds must be between 60 and 21600 (Lambda's limits)."
  }
}

variable "blur" {
  description = "Blur style (pixelate, gaussian, solid), box margin (fraction of the box per side), output JPEG quality, and the size limits above which pictures are rejected."
  type = object({
    style            = optional(string, "pixelate")
    margin           = optional(number, 0.2)
    jpeg_quality     = optional(number, 85)
    max_image_pixels = optional(number, 40000000)
    max_object_bytes = optional(number, 52428800)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["pixelate", "gaussian", "solid"], var.blur.style)
    error_message = "blur.style must be one of: pixelate, gaussian, solid."
  }
  validation {
    condition     = var.blur.margin >= 0 && var.blur.margin <= 1
    error_message = "blur.margin must be between 0 and 1."
  }
  validation {
    condition     = var.blur.jpeg_quality >= 1 && var.blur.jpeg_quality <= 95 && floor(var.blur.jpeg_quality) == var.blur.jpeg_quality
    error_message = "blur.jpeg_quality must be a whole number between 1 and 95."
  }
  validation {
    condition     = var.blur.max_image_pixels >= 1 && var.blur.max_object_bytes >= 1
    error_message = "blur.max_image_pixels and blur.max_object_bytes must be positive."
  }
}

variable "person_min_confidence" {
  description = "DetectLabels MinConfidence for Person, 0-100. Low on purpose: a missed person is worse than an extra box."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.person_min_confidence >= 0 && var.person_min_confidence <= 100
    error_message = "person_min_confidence must be between 0 and 100."
  }
}

variable "plate_detector" {
  description = "Who finds licence plates inside the vehicles DetectLabels boxes: packaged_ocr (a text detector run inside the live function, no extra call), rekognition_text (one DetectText call per picture with vehicles) or none (only plates DetectLabels itself boxes)."
  type        = string
  default     = "packaged_ocr"

  validation {
    condition     = contains(["packaged_ocr", "rekognition_text", "none"], var.plate_detector)
    error_message = "plate_detector must be one of: packaged_ocr, rekognition_text, none."
  }
}

variable "capture_time_zone" {
  description = "IANA time zone that defines a capture day; the daily refinement schedule follows it too."
  type        = string
  default     = "UTC"
  nullable    = false

  validation {
    condition     = can(regex("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$", var.capture_time_zone))
    error_message = "capture_time_zone must be UTC or an IANA zone such as Europe/Paris."
  }
}

# ---------------------------------------------------------------- refinement
variable "model_project_arn" {
  description = "ARN of the Rekognition Custom Labels project (made outside Terraform)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:[0-9]{12}:project/[a-zA-Z0-9_.-]{1,255}/[0-9]+$", var.model_project_arn))
    error_message = "model_project_arn must look like arn:aws:rekognition:REGION:ACCOUNT:project/NAME/TIMESTAMP."
  }
}

variable "model_version_arn" {
  description = "ARN of the Custom Labels model (project version) that refine_worker calls; it must belong to model_project_arn."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:[0-9]{12}:project/[a-zA-Z0-9_.-]{1,255}/version/[a-zA-Z0-9_.-]{1,255}/[0-9]+$", var.model_version_arn))
    error_message = "model_version_arn must look like arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION/TIMESTAMP."
  }
  validation {
    condition     = startswith(var.model_version_arn, "${join("/", slice(split("/", var.model_project_arn), 0, 2))}/version/")
    error_message = "model_version_arn must be a version of the project named by model_project_arn."
  }
}

variable "model_min_inference_units" {
  description = "The fewest inference units a session starts with (billed per unit-hour while running); the sizing may start more."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.model_min_inference_units >= 1 && floor(var.model_min_inference_units) == var.model_min_inference_units
    error_message = "model_min_inference_units must be a whole number of at least 1."
  }
}

variable "model_max_inference_units" {
  description = "The most inference units a session may use (the sizing picks each session's units up to this): the account's inference units per model, AWS default 5."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.model_max_inference_units >= var.model_min_inference_units && floor(var.model_max_inference_units) == var.model_max_inference_units
    error_message = "model_max_inference_units must be a whole number, at least model_min_inference_units."
  }
}

variable "model_max_run_minutes" {
  description = "Watchdog ceiling: model_reconciler stops the model after the session's sized limit, never later than this, whatever the queue says. A day the quotas cannot refine within it is reported (RefineDayOverCapacity) and finished by the next sessions."
  type        = number
  default     = 240
  nullable    = false

  validation {
    condition     = var.model_max_run_minutes >= 10 && var.model_max_run_minutes <= 1440
    error_message = "model_max_run_minutes must be between 10 and 1440."
  }
}

variable "model_drain_confirm_seconds" {
  description = "model_reconciler stops the model after two empty queue readings at least this many seconds apart, so a momentary zero does not stop it early."
  type        = number
  default     = 45
  nullable    = false

  validation {
    condition     = var.model_drain_confirm_seconds >= 1 && var.model_drain_confirm_seconds <= 900
    error_message = "model_drain_confirm_seconds must be between 1 and 900."
  }
}

variable "custom_label_names" {
  description = "Custom labels whose boxes are blurred."
  type        = list(string)
  default     = ["person", "license_plate"]
  nullable    = false

  validation {
    condition     = length(var.custom_label_names) > 0 && alltrue([for name in var.custom_label_names : can(regex("^[A-Za-z0-9_ -]+$", name))])
    error_message = "custom_label_names must list at least one label of letters, digits, '_', '-' or spaces (no commas)."
  }
}

variable "custom_min_confidence" {
  description = "DetectCustomLabels MinConfidence, 0-100."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.custom_min_confidence >= 0 && var.custom_min_confidence <= 100
    error_message = "custom_min_confidence must be between 0 and 100."
  }
}

variable "refine_days_back" {
  description = "The daily run refines the capture day that is this many days before today."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.refine_days_back >= 0 && var.refine_days_back < var.raw_retention_days - 1
    error_message = "refine_days_back must be at least 0 and less than raw_retention_days - 1 (the day's raw pictures must still be current)."
  }
}

variable "refine_schedule_expression" {
  description = "When the daily refinement starts: an EventBridge Scheduler cron() expression read in capture_time_zone."
  type        = string
  default     = "cron(30 2 * * ? *)"
  nullable    = false

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.refine_schedule_expression))
    error_message = "refine_schedule_expression must be a cron(...) expression, e.g. cron(30 2 * * ? *)."
  }
}

variable "refine_schedule_retry_attempts" {
  description = "How often the scheduler retries a daily refinement invocation that Lambda refused (throttled, for instance)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.refine_schedule_retry_attempts >= 0 && var.refine_schedule_retry_attempts <= 185 && floor(var.refine_schedule_retry_attempts) == var.refine_schedule_retry_attempts
    error_message = "refine_schedule_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "reconciler_schedule_expression" {
  description = "How often model_reconciler runs."
  type        = string
  default     = "rate(1 minute)"
  nullable    = false

  validation {
    condition     = can(regex("^rate\\(([1-9][0-9]*) (minute|minutes|hour|hours)\\)$", var.reconciler_schedule_expression))
    error_message = "reconciler_schedule_expression must be rate(N minute[s]) or rate(N hour[s]), e.g. rate(1 minute)."
  }
}

variable "worker_memory_mb" {
  description = "Memory of refine_worker in MB."
  type        = number
  default     = 1024
  nullable    = false

  validation {
    condition     = var.worker_memory_mb >= 256 && var.worker_memory_mb <= 10240
    error_message = "worker_memory_mb must be between 256 and 10240."
  }
}

variable "worker_timeout_seconds" {
  description = "Timeout of refine_worker in seconds; the refine queue's visibility timeout is six times this."
  type        = number
  default     = 120
  nullable    = false

  validation {
    condition     = var.worker_timeout_seconds >= 10 && var.worker_timeout_seconds <= 900
    error_message = "worker_timeout_seconds must be between 10 and 900."
  }
}

variable "refine_batch_size" {
  description = "Messages per refine_worker invocation."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.refine_batch_size >= 1 && var.refine_batch_size <= 10
    error_message = "refine_batch_size must be between 1 and 10."
  }
}

variable "refine_maximum_concurrency" {
  description = "The most refine_worker invocations at once (its reserved concurrency; each session's sized concurrency stays under it). Keep refine_rekognition_tps / this above one worker's pictures per second (1 / refine_worker_seconds_per_picture), or the workers' pacing holds them back."
  type        = number
  default     = 25
  nullable    = false

  validation {
    condition     = var.refine_maximum_concurrency >= 2 && var.refine_maximum_concurrency <= 1000
    error_message = "refine_maximum_concurrency must be between 2 and 1000 (AWS limits)."
  }
}

variable "refine_window_minutes" {
  description = "Serving time a day's refinement should take (model RUNNING to queue drained): the sizing starts the inference units and workers that meet it."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.refine_window_minutes >= 10 && var.refine_window_minutes <= 1440 && floor(var.refine_window_minutes) == var.refine_window_minutes
    error_message = "refine_window_minutes must be a whole number between 10 and 1440."
  }
}

variable "refine_pictures_per_second_per_unit" {
  description = "Pictures per second one Custom Labels inference unit serves (AWS does not publish it): the sizing's guess until a past run measured it (recorded on the run item)."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.refine_pictures_per_second_per_unit > 0 && var.refine_pictures_per_second_per_unit <= 1000
    error_message = "refine_pictures_per_second_per_unit must be a positive number up to 1000."
  }
}

variable "refine_worker_seconds_per_picture" {
  description = "One refine_worker's time per picture (S3, decode, blur, encode, inference; make bench-refine measures it: 0.85 s for 2160p pictures, half with a colour profile, at 1024 MB): how many workers keep the units busy."
  type        = number
  default     = 0.85
  nullable    = false

  validation {
    condition     = var.refine_worker_seconds_per_picture > 0 && var.refine_worker_seconds_per_picture <= 60
    error_message = "refine_worker_seconds_per_picture must be a positive number of seconds up to 60."
  }
}

variable "refine_max_receive_count" {
  description = "A refine message moves to the dead-letter queue after this many receives (its picture marked DEAD_LETTERED). Small on purpose: a failed picture comes back after 30 s, 60 s, ..., so 3 receives keep a poison message on the model's bill for about two minutes."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.refine_max_receive_count >= 2 && var.refine_max_receive_count <= 10 && floor(var.refine_max_receive_count) == var.refine_max_receive_count
    error_message = "refine_max_receive_count must be a whole number between 2 and 10 (one retry at least; more keeps poison messages on the model's bill)."
  }
}

variable "refine_queue_retention_days" {
  description = "How long a refine message waits in the queue before SQS drops it. Messages a session left (model failed, watchdog) are carried into the next day's session, so this must cover the longest gap between two sessions (a day) plus a failed one and a margin; an alarm fires a day before it runs out."
  type        = number
  default     = 4
  nullable    = false

  validation {
    condition     = var.refine_queue_retention_days >= 3 && var.refine_queue_retention_days <= 14 && floor(var.refine_queue_retention_days) == var.refine_queue_retention_days
    error_message = "refine_queue_retention_days must be a whole number between 3 (two days between sessions plus a margin) and 14 (SQS's maximum)."
  }
}

# ---------------------------------------------------------------- operations
variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_level" {
  description = "Log level of every function."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of: DEBUG, INFO, WARNING, ERROR."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' metrics (PicturesProcessed, PersonsBlurred, ...)."
  type        = string
  default     = "camblur"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits, '.', '-', '_', '/', '#', ':' and must not start with AWS/."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic the stack creates (each confirms by email). Ignored when alarm_topic_arn names a topic of your own."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be email addresses (name@example.com)."
  }
}

variable "alarm_topic_arn" {
  description = "An existing SNS topic for the alarms (its policy must let CloudWatch publish); null: the stack creates one (subscribe alarm_emails to it). Every alarm notifies it."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}

# ---------------------------------------------------------------- live trigger and Rekognition pacing (README: Scale)

variable "live_trigger" {
  description = "How S3 reaches live_blur: \"sqs\" (S3 -> live queue -> event source mapping with partial batch responses; absorbs bursts, README: Scale) or \"s3_async\" (S3 invokes it asynchronously, Lambda retries twice, then the live DLQ)."
  type        = string
  default     = "sqs"
  nullable    = false

  validation {
    condition     = contains(["s3_async", "sqs"], var.live_trigger)
    error_message = "live_trigger must be one of: s3_async, sqs."
  }
}

variable "live_rekognition_tps" {
  description = "DetectLabels calls per second live_blur may make in all (the account's quota, or the part of it left to camblur); REKOGNITION_TPS."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.live_rekognition_tps > 0
    error_message = "live_rekognition_tps must be a positive number."
  }
}

variable "live_rekognition_max_wait_seconds" {
  description = "How long one picture waits out DetectLabels throttling inside an invocation before it is handed back to the live queue with a delay; REKOGNITION_MAX_WAIT_SECONDS."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.live_rekognition_max_wait_seconds >= 0 && var.live_rekognition_max_wait_seconds <= 30
    error_message = "live_rekognition_max_wait_seconds must be between 0 and 30."
  }
}

variable "refine_rekognition_tps" {
  description = "DetectCustomLabels calls per second refine_worker may make in all (the account's quota; the model's inference units may allow less); REKOGNITION_TPS."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.refine_rekognition_tps > 0
    error_message = "refine_rekognition_tps must be a positive number."
  }
}

variable "live_batch_size" {
  description = "Messages (pictures) per live_blur invocation from the live queue."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.live_batch_size >= 1 && var.live_batch_size <= 10
    error_message = "live_batch_size must be between 1 and 10 (above 10 SQS needs a batching window)."
  }
}

variable "live_max_receive_count" {
  description = "A live message goes to the live DLQ after this many receives (throttling hand-backs count: 20 is 30 min or more of throttling)."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.live_max_receive_count >= 5 && var.live_max_receive_count <= 1000
    error_message = "live_max_receive_count must be between 5 and 1000."
  }
}

variable "live_backlog_age_alarm_seconds" {
  description = "Alarm when the oldest message in the live queue is older than this (pictures not yet published)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.live_backlog_age_alarm_seconds >= 60
    error_message = "live_backlog_age_alarm_seconds must be at least 60."
  }
}
