# dev: a real AWS account for trying changes; cheap to throw away.

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids
}

module "camblur" {
  source = "../../terraform"

  environment     = "dev"
  lambda_zip_path = var.lambda_zip_path

  # S3 -> live queue -> live_blur (the stack's default, said here so that no one wonders).
  live_trigger = "sqs"

  model_project_arn         = var.model_project_arn
  model_version_arn         = var.model_version_arn
  capture_time_zone         = var.capture_time_zone
  live_reserved_concurrency = var.live_reserved_concurrency
  alarm_topic_arn           = var.alarm_topic_arn
  alarm_emails              = var.alarm_emails
  tags                      = var.tags

  # Throw-away settings.
  force_destroy            = true
  deletion_protection      = false
  kms_deletion_window_days = 7
  log_retention_days       = 30
  log_level                = "DEBUG"
}
