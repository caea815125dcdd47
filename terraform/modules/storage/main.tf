# Storage: two customer-managed KMS keys, the buckets (buckets.tf), the blur-state table
# (table.tf) and the optional trail of raw-picture reads (audit.tf).
#
# - The main key encrypts the blurred and artifacts buckets, the table, the functions' logs and
#   environments (and the audit trail): the account manages its use through IAM.
# - The raw key encrypts the raw bucket only. Its key policy is the second lock on the raw
#   pictures (the bucket policy is the first): decrypting is allowed only through S3, and only
#   to the principals that may read raw pictures (var.access); cameras may only encrypt.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"
  via_s3     = "s3.${local.region}.amazonaws.com"

  # Who may read raw pictures: the pipeline's readers and the break-glass principals. Matched
  # on aws:PrincipalArn (the role's ARN also for its sessions and for the requests Rekognition
  # makes to S3 on the function's behalf).
  raw_readers = concat(var.access.raw_reader_arns, var.access.break_glass_principal_arns)
}

resource "aws_kms_key" "this" {
  description             = "camblur: blurred pictures, blur state, logs and Lambda environments (${var.names.kms_alias})"
  enable_key_rotation     = true
  deletion_window_in_days = var.settings.kms_deletion_window_days

  # Key policies always say Resource "*": it means "this key".
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        # Lets IAM policies grant use of the key (the function roles do, scoped to this key)
        # and keeps the account from locking itself out.
        Sid       = "AccountManagesKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
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
    ], local.trail_key_statements)
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = var.names.kms_alias
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_kms_key" "raw" {
  description             = "camblur: raw pictures only, decrypted only through S3 by the pipeline (${var.names.raw_kms_alias})"
  enable_key_rotation     = true
  deletion_window_in_days = var.settings.kms_deletion_window_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Administration only, never use: no IAM policy can grant Decrypt of raw pictures
        # beyond the statement below. PutKeyPolicy stays, so the account cannot lock itself out.
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
          "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
          "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        ]
        Resource = "*"
      },
      {
        # Reading a raw picture: only through S3, only by its readers (who also need an IAM
        # policy that allows it: the roles of modules/rekognition_iam have one).
        Sid       = "ReadersDecryptThroughS3"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = local.via_s3, "kms:CallerAccount" = local.account_id }
          ArnLike      = { "aws:PrincipalArn" = local.raw_readers }
        }
      },
      {
        # Uploading (SSE-KMS): a new data key, which decrypts nothing already stored. Any
        # principal of the account whose IAM policy allows it (the camera uploader policy).
        Sid       = "UploadersEncryptThroughS3"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:GenerateDataKey"
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = local.via_s3, "kms:CallerAccount" = local.account_id }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "raw" {
  name          = var.names.raw_kms_alias
  target_key_id = aws_kms_key.raw.key_id
}
