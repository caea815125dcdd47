# local: the whole stack against the embedded AWS endpoint (moto server) of
# localaws/embedded.py. `make up` starts it and applies this; `make down` undoes both.

provider "aws" {
  region = var.region

  #checkov:skip=CKV_AWS_41: fake keys for the embedded endpoint on 127.0.0.1, not credentials
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 2 # a call moto does not implement fails fast instead of hanging

  # One entry per service the stack uses.
  endpoints {
    cloudtrail = var.aws_endpoint_url
    cloudwatch = var.aws_endpoint_url
    dynamodb   = var.aws_endpoint_url
    iam        = var.aws_endpoint_url
    kms        = var.aws_endpoint_url
    lambda     = var.aws_endpoint_url
    logs       = var.aws_endpoint_url
    s3         = var.aws_endpoint_url
    scheduler  = var.aws_endpoint_url
    sns        = var.aws_endpoint_url
    sqs        = var.aws_endpoint_url
    sts        = var.aws_endpoint_url
  }
}

module "camblur" {
  source = "../../terraform"

  environment     = "local"
  lambda_zip_path = var.lambda_zip_path

  # S3 -> live queue -> live_blur ("sqs"); `python -m devtools.demo --var
  # live_trigger=s3_async` tries the direct trigger.
  live_trigger = var.live_trigger

  model_project_arn = var.model_project_arn
  model_version_arn = var.model_version_arn
  capture_time_zone = var.capture_time_zone

  raw_notification_filter = var.raw_notification_filter

  # The demo and the tests tick the reconciler themselves: no need to wait 45 s for a drain.
  model_drain_confirm_seconds = 2

  # Everything goes away with make down.
  force_destroy            = true
  deletion_protection      = false
  kms_deletion_window_days = 7
  log_retention_days       = 7
  log_level                = "DEBUG"

  # As in prod: the raw-read trail and its bucket apply to the embedded endpoint too (moto
  # records the trail; it logs nothing), so the tests deploy what prod deploys.
  raw_read_audit = true
}
