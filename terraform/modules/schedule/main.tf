# EventBridge Scheduler (not EventBridge rules): its cron expressions follow a time zone,
# so "02:30 in Europe/Paris" stays 02:30 across daylight saving time.
# Scheduler invokes through a role it assumes, so no aws_lambda_permission is involved.

data "aws_caller_identity" "current" {}

locals {
  targets = {
    refine_schedule  = var.function_arns.refine_schedule
    model_reconciler = var.function_arns.model_reconciler
  }
}

resource "aws_iam_role" "this" {
  name = var.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Only schedules of this account may use the role (confused deputy).
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "invoke-scheduled-functions"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "InvokeScheduledFunctions"
      Effect   = "Allow"
      Action   = "lambda:InvokeFunction"
      Resource = values(local.targets)
    }]
  })
}

resource "aws_scheduler_schedule_group" "this" {
  name = var.group_name

  tags = var.tags
}

resource "aws_scheduler_schedule" "refine" {
  #checkov:skip=CKV_AWS_297: the schedule's payload is only its own scheduled time; a customer-managed key would protect nothing
  name                         = "refine-daily"
  group_name                   = aws_scheduler_schedule_group.this.name
  schedule_expression          = var.schedules.refine_expression
  schedule_expression_timezone = var.schedules.refine_time_zone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.targets["refine_schedule"]
    role_arn = aws_iam_role.this.arn
    # Scheduler fills in the time this run was due, so a retry after midnight still refines
    # the day it was meant for (camblur.refine.schedule.ScheduleRequest). Not jsonencode():
    # it writes "<" and ">" as \u003c and \u003e, and Scheduler replaces only the literal keyword.
    input = "{\"scheduled_time\":\"<aws.scheduler.scheduled-time>\"}"

    retry_policy {
      maximum_retry_attempts = var.schedules.refine_retry_attempts
    }
  }
}

resource "aws_scheduler_schedule" "reconcile" {
  #checkov:skip=CKV_AWS_297: the schedule's payload is an empty JSON object; a customer-managed key would protect nothing
  name                = "reconcile-model"
  group_name          = aws_scheduler_schedule_group.this.name
  schedule_expression = var.schedules.reconciler_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.targets["model_reconciler"]
    role_arn = aws_iam_role.this.arn
    input    = jsonencode({})

    retry_policy {
      # The next run comes within minutes anyway.
      maximum_retry_attempts = 0
    }
  }
}
