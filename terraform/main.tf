# camblur stack: storage -> IAM -> pipeline -> schedule. Names and tags are made here, once.
#
#   cameras --PUT--> raw bucket --S3 event--> live_blur --> blurred bucket + state table
#   Scheduler daily --> refine_schedule --> refine queue --mapping--> refine_worker
#   Scheduler rate  --> model_reconciler (starts/stops the mapping and the model)

data "aws_caller_identity" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  # Bucket names are global: the account ID keeps them unique.
  account_id = data.aws_caller_identity.current.account_id

  function_keys = ["live_blur", "refine_schedule", "refine_worker", "model_reconciler"]

  names = {
    raw_bucket     = "${local.name_prefix}-raw-${local.account_id}"
    blurred_bucket = "${local.name_prefix}-blurred-${local.account_id}"
    state_table    = "${local.name_prefix}-state"
    kms_alias      = "alias/${local.name_prefix}"
    functions      = { for key in local.function_keys : key => "${local.name_prefix}-${replace(key, "_", "-")}" }
    roles          = { for key in local.function_keys : key => "${local.name_prefix}-${replace(key, "_", "-")}" }
    queues = {
      live_dlq   = "${local.name_prefix}-live-dlq"
      refine     = "${local.name_prefix}-refine"
      refine_dlq = "${local.name_prefix}-refine-dlq"
    }
    dashboard      = local.name_prefix
    schedule_group = local.name_prefix
    scheduler_role = "${local.name_prefix}-scheduler"
  }

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "storage" {
  source = "./modules/storage"

  raw_bucket_name                    = local.names.raw_bucket
  blurred_bucket_name                = local.names.blurred_bucket
  state_table_name                   = local.names.state_table
  kms_alias_name                     = local.names.kms_alias
  log_group_name_prefix              = "/aws/lambda/${local.name_prefix}-"
  kms_deletion_window_days           = var.kms_deletion_window_days
  raw_expiration_days                = var.raw_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
  deletion_protection                = var.deletion_protection
  tags                               = local.tags
}

module "rekognition_iam" {
  source = "./modules/rekognition_iam"

  role_names            = local.names.roles
  raw_bucket_arn        = module.storage.raw_bucket_arn
  blurred_bucket_arn    = module.storage.blurred_bucket_arn
  state_table_arn       = module.storage.state_table_arn
  capture_day_index_arn = module.storage.capture_day_index_arn
  kms_key_arn           = module.storage.kms_key_arn
  live_dlq_arn          = module.pipeline.live_dlq_arn
  refine_queue_arn      = module.pipeline.refine_queue_arn
  refine_mapping_arn    = module.pipeline.refine_mapping_arn
  log_group_arns        = module.pipeline.log_group_arns
  model_project_arn     = var.model_project_arn
  model_version_arn     = var.model_version_arn
  tags                  = local.tags
}

module "pipeline" {
  source = "./modules/pipeline"

  function_names             = local.names.functions
  queue_names                = local.names.queues
  dashboard_name             = local.names.dashboard
  role_arns                  = module.rekognition_iam.role_arns
  lambda_zip_path            = var.lambda_zip_path
  lambda_runtime             = var.lambda_runtime
  lambda_architecture        = var.lambda_architecture
  live_memory_mb             = var.live_memory_mb
  live_timeout_seconds       = var.live_timeout_seconds
  live_reserved_concurrency  = var.live_reserved_concurrency
  worker_memory_mb           = var.worker_memory_mb
  worker_timeout_seconds     = var.worker_timeout_seconds
  refine_batch_size          = var.refine_batch_size
  refine_maximum_concurrency = var.refine_maximum_concurrency
  refine_max_receive_count   = var.refine_max_receive_count
  raw_bucket_name            = module.storage.raw_bucket_name
  raw_bucket_arn             = module.storage.raw_bucket_arn
  blurred_bucket_name        = module.storage.blurred_bucket_name
  state_table_name           = module.storage.state_table_name
  kms_key_arn                = module.storage.kms_key_arn
  raw_notification_filter    = var.raw_notification_filter
  log_retention_days         = var.log_retention_days
  log_level                  = var.log_level
  metrics_namespace          = var.metrics_namespace
  blur                       = var.blur
  person_min_confidence      = var.person_min_confidence
  plate_detector             = var.plate_detector
  capture_time_zone          = var.capture_time_zone
  state_ttl_days             = var.state_ttl_days
  custom_label_names         = var.custom_label_names
  custom_min_confidence      = var.custom_min_confidence
  refine_days_back           = var.refine_days_back
  alarm_topic_arn            = var.alarm_topic_arn
  tags                       = local.tags

  model = {
    project_arn           = var.model_project_arn
    version_arn           = var.model_version_arn
    min_inference_units   = var.model_min_inference_units
    max_inference_units   = var.model_max_inference_units
    max_run_minutes       = var.model_max_run_minutes
    drain_confirm_seconds = var.model_drain_confirm_seconds
  }
}

module "schedule" {
  source = "./modules/schedule"

  group_name                     = local.names.schedule_group
  role_name                      = local.names.scheduler_role
  refine_schedule_function_arn   = module.pipeline.function_arns["refine_schedule"]
  model_reconciler_function_arn  = module.pipeline.function_arns["model_reconciler"]
  refine_schedule_expression     = var.refine_schedule_expression
  refine_schedule_time_zone      = var.capture_time_zone # a capture day ends at midnight there
  reconciler_schedule_expression = var.reconciler_schedule_expression
  tags                           = local.tags
}
