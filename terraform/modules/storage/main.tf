# Storage: one customer-managed KMS key, the raw and blurred buckets (buckets.tf) and the
# blur-state table (table.tf). Everything at rest is encrypted with this one key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

resource "aws_kms_key" "this" {
  description             = "camblur: pictures, blur state, logs and Lambda environments (${var.names.kms_alias})"
  enable_key_rotation     = true
  deletion_window_in_days = var.settings.kms_deletion_window_days

  # Key policies always say Resource "*": it means "this key".
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Lets IAM policies grant use of the key (the function roles do, scoped to this key)
        # and keeps the account from locking itself out.
        Sid       = "AccountManagesKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs encrypts the functions' log groups, and no other log group.
        Sid       = "CloudWatchLogsEncryptsFunctionLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.names.log_group_prefix}*"
          }
        }
      },
      {
        # CloudWatch alarms publish to the stack's alarm topic, encrypted with this key.
        Sid       = "CloudWatchAlarmsPublishToTheAlarmTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = var.names.kms_alias
  target_key_id = aws_kms_key.this.key_id
}
