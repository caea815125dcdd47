# camblur stack: storage, queues -> IAM -> pipeline -> schedule, each module using only what
# came before it. Names and tags are made here, once. Every setting is declared and validated
# in variables.tf; the modules take them as typed objects and check nothing again.
#
#   cameras --PUT--> raw bucket --S3 event--> live_blur --> blurred bucket + state table
#   Scheduler daily --> refine_schedule --> refine queue --mapping--> refine_worker
#   Scheduler rate  --> model_reconciler (starts/stops the mapping and the model)
#   state table stream --> status_counts --> per camera and day counts (camblur status)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  # Bucket names are global: the account ID keeps them unique.
  account_id = data.aws_caller_identity.current.account_id

  function_keys  = ["live_blur", "refine_schedule", "refine_worker", "model_reconciler", "status_counts"]
  function_names = { for key in local.function_keys : key => "${local.name_prefix}-${replace(key, "_", "-")}" }

  names = {
    raw_bucket     = "${local.name_prefix}-raw-${local.account_id}"
    blurred_bucket = "${local.name_prefix}-blurred-${local.account_id}"
    artifacts      = "${local.name_prefix}-artifacts-${local.account_id}"
    audit_bucket   = "${local.name_prefix}-audit-${local.account_id}"
    state_table    = "${local.name_prefix}-state"
    kms_alias      = "alias/${local.name_prefix}"
    raw_kms_alias  = "alias/${local.name_prefix}-raw"
    raw_read_trail = "${local.name_prefix}-raw-reads"
    functions      = local.function_names
    roles          = local.function_names
    # Lambda writes to /aws/lambda/<function name>; modules/pipeline makes the groups.
    log_groups = { for key, name in local.function_names : key => "/aws/lambda/${name}" }
    queues = {
      live_dlq   = "${local.name_prefix}-live-dlq"
      refine     = "${local.name_prefix}-refine"
      refine_dlq = "${local.name_prefix}-refine-dlq"
      counts_dlq = "${local.name_prefix}-counts-dlq"
    }
    dashboard      = local.name_prefix
    alarm_topic    = "${local.name_prefix}-alarms"
    schedule_group = local.name_prefix
    scheduler_role = "${local.name_prefix}-scheduler"
    access_policies = {
      camera_uploader = "${local.name_prefix}-camera-uploader"
      blurred_reader  = "${local.name_prefix}-blurred-reader"
    }
  }

  # The roles' ARNs, from their names: storage's bucket and key policies name them, and storage
  # comes before modules/rekognition_iam (which needs the buckets' and keys' ARNs). Built here
  # rather than read from the roles, so that the order stays storage -> IAM and no policy
  # resource has to move out of storage. The policies match them with aws:PrincipalArn
  # conditions, which (unlike a Principal element) need no role to exist yet and keep matching a
  # role that is recreated. The integration test compares them with the deployed roles.
  role_arns = { for key, name in local.names.roles : key => "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:role/${name}" }

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "storage" {
  source = "./modules/storage"

  names = {
    raw_bucket       = local.names.raw_bucket
    blurred_bucket   = local.names.blurred_bucket
    artifacts_bucket = local.names.artifacts
    audit_bucket     = local.names.audit_bucket
    state_table      = local.names.state_table
    kms_alias        = local.names.kms_alias
    raw_kms_alias    = local.names.raw_kms_alias
    raw_read_trail   = local.names.raw_read_trail
    log_group_prefix = "/aws/lambda/${local.name_prefix}-"
  }
  settings = {
    raw_retention_days       = var.raw_retention_days
    artifact_retention_days  = var.artifact_retention_days
    kms_deletion_window_days = var.kms_deletion_window_days
    force_destroy            = var.force_destroy
    deletion_protection      = var.deletion_protection
    raw_read_audit           = var.raw_read_audit
    audit_retention_days     = var.log_retention_days
  }
  access = {
    # The functions that read raw pictures (Rekognition reads them with these roles too).
    raw_reader_arns            = [local.role_arns["live_blur"], local.role_arns["refine_worker"]]
    blurred_writer_arns        = [local.role_arns["live_blur"], local.role_arns["refine_worker"]]
    break_glass_principal_arns = var.raw_break_glass_principal_arns
  }
  tags = local.tags
}

module "queues" {
  source = "./modules/queues"

  names = local.names.queues
  refine = {
    consumer_timeout_seconds = var.worker_timeout_seconds
    max_receive_count        = var.refine_max_receive_count
    retention_days           = var.refine_queue_retention_days
  }
  tags = local.tags
}

module "rekognition_iam" {
  source = "./modules/rekognition_iam"

  role_names      = local.names.roles
  log_group_names = local.names.log_groups
  resources = {
    raw_bucket_arn        = module.storage.raw_bucket_arn
    blurred_bucket_arn    = module.storage.blurred_bucket_arn
    state_table_arn       = module.storage.state_table_arn
    capture_day_index_arn = module.storage.capture_day_index_arn
    kms_key_arn           = module.storage.kms_key_arn
    raw_kms_key_arn       = module.storage.raw_kms_key_arn
    live_dlq_arn          = module.queues.live_dlq.arn
    refine_queue_arn      = module.queues.refine.arn
    state_stream_arn      = module.storage.state_table_stream_arn
    counts_dlq_arn        = module.queues.counts_dlq.arn
  }
  access_policy_names = local.names.access_policies
  raw_upload_prefix   = var.raw_notification_filter.prefix
  model = {
    project_arn = var.model_project_arn
    version_arn = var.model_version_arn
  }
  tags = local.tags
}

module "pipeline" {
  source = "./modules/pipeline"

  function_names = local.names.functions
  dashboard_name = local.names.dashboard

  code = {
    zip_path     = var.lambda_zip_path
    runtime      = var.lambda_runtime
    architecture = var.lambda_architecture
  }
  live = {
    memory_mb                    = var.live_memory_mb
    timeout_seconds              = var.live_timeout_seconds
    reserved_concurrency         = var.live_reserved_concurrency
    max_event_age_seconds        = var.live_max_event_age_seconds
    notification_filter          = var.raw_notification_filter
    person_min_confidence        = var.person_min_confidence
    plate_detector               = var.plate_detector
    trigger                      = var.live_trigger
    rekognition_tps              = var.live_rekognition_tps
    rekognition_max_wait_seconds = var.live_rekognition_max_wait_seconds
    batch_size                   = var.live_batch_size
    max_receive_count            = var.live_max_receive_count
    backlog_age_alarm_seconds    = var.live_backlog_age_alarm_seconds
  }
  refine = {
    memory_mb             = var.worker_memory_mb
    timeout_seconds       = var.worker_timeout_seconds
    batch_size            = var.refine_batch_size
    maximum_concurrency   = var.refine_maximum_concurrency
    custom_label_names    = var.custom_label_names
    custom_min_confidence = var.custom_min_confidence
    days_back             = var.refine_days_back
    rekognition_tps       = var.refine_rekognition_tps
    # The sizing's inputs (lambdas/camblur/refine/sizing.py)
    window_minutes               = var.refine_window_minutes
    pictures_per_second_per_unit = var.refine_pictures_per_second_per_unit
    worker_seconds_per_picture   = var.refine_worker_seconds_per_picture
    max_receive_count            = var.refine_max_receive_count
    queue_retention_days         = var.refine_queue_retention_days
  }
  model = {
    project_arn           = var.model_project_arn
    version_arn           = var.model_version_arn
    min_inference_units   = var.model_min_inference_units
    max_inference_units   = var.model_max_inference_units
    max_run_minutes       = var.model_max_run_minutes
    drain_confirm_seconds = var.model_drain_confirm_seconds
  }
  blur = var.blur
  state = {
    capture_time_zone = var.capture_time_zone
    ttl_days          = var.state_ttl_days
  }
  operations = {
    log_retention_days = var.log_retention_days
    log_level          = var.log_level
    metrics_namespace  = var.metrics_namespace
    alarm_topic_arn    = var.alarm_topic_arn
    alarm_topic_name   = local.names.alarm_topic
    alarm_emails       = var.alarm_emails
  }

  storage = {
    raw_bucket_name       = module.storage.raw_bucket_name
    raw_bucket_arn        = module.storage.raw_bucket_arn
    blurred_bucket_name   = module.storage.blurred_bucket_name
    artifacts_bucket_name = module.storage.artifacts_bucket_name
    state_table_name      = module.storage.state_table_name
    state_stream_arn      = module.storage.state_table_stream_arn
    kms_key_arn           = module.storage.kms_key_arn
  }
  queues = {
    live_dlq   = module.queues.live_dlq
    refine     = module.queues.refine
    refine_dlq = module.queues.refine_dlq
    counts_dlq = module.queues.counts_dlq
  }
  roles = module.rekognition_iam.roles
  tags  = local.tags
}

module "schedule" {
  source = "./modules/schedule"

  group_name = local.names.schedule_group
  role_name  = local.names.scheduler_role
  function_arns = {
    refine_schedule  = module.pipeline.function_arns["refine_schedule"]
    model_reconciler = module.pipeline.function_arns["model_reconciler"]
  }
  schedules = {
    refine_expression     = var.refine_schedule_expression
    refine_time_zone      = var.capture_time_zone # a capture day ends at midnight there
    refine_retry_attempts = var.refine_schedule_retry_attempts
    reconciler_expression = var.reconciler_schedule_expression
  }
  tags = local.tags
}

# Where resources were before the queues had a module of their own and the mapping policy
# moved beside the mapping: an existing deployment keeps them instead of replacing them.
moved {
  from = module.pipeline.aws_sqs_queue.live_dlq
  to   = module.queues.aws_sqs_queue.live_dlq
}

moved {
  from = module.pipeline.aws_sqs_queue.refine
  to   = module.queues.aws_sqs_queue.refine
}

moved {
  from = module.pipeline.aws_sqs_queue.refine_dlq
  to   = module.queues.aws_sqs_queue.refine_dlq
}

moved {
  from = module.rekognition_iam.aws_iam_role_policy.reconciler_mapping
  to   = module.pipeline.aws_iam_role_policy.reconciler_mapping
}
