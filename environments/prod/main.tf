# prod: the construction sites' pictures. Conservative on purpose: nothing here can be
# destroyed by accident, logs are kept two years, raw pictures still expire after 3 days.

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids
}

module "camblur" {
  source = "../../terraform"

  environment     = "prod"
  lambda_zip_path = var.lambda_zip_path

  model_project_arn         = var.model_project_arn
  model_version_arn         = var.model_version_arn
  capture_time_zone         = var.capture_time_zone
  live_reserved_concurrency = var.live_reserved_concurrency
  alarm_topic_arn           = var.alarm_topic_arn
  alarm_emails              = var.alarm_emails
  tags                      = var.tags

  force_destroy            = false
  deletion_protection      = true
  kms_deletion_window_days = 30
  log_retention_days       = 731
  log_level                = "INFO"
  raw_retention_days       = 3
}
