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

  # S3 -> live queue -> live_blur (the stack's default, said here so that no one wonders).
  live_trigger = "sqs"

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

  # Every read of a raw picture is logged (CloudTrail data events); nobody but the pipeline
  # reads them unless named here for an incident (terraform.tfvars).
  raw_read_audit                 = true
  raw_break_glass_principal_arns = var.raw_break_glass_principal_arns
}
