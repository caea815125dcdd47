# Who read a raw picture (settings.raw_read_audit): a CloudTrail trail of the raw bucket's
# read-only object data events (GetObject, HeadObject, ...), pipeline reads included, so the
# log also shows that nobody else read. Writes (the cameras' PUTs) are not logged: they expose
# nothing, and would double the cost (data events cost about $0.10 per 100,000).
#
# The log files go to their own bucket (buckets.tf: same protections as the others, expire
# after settings.audit_retention_days), encrypted with the main key, with digest files
# (log file validation) to prove none was changed or removed.

locals {
  trail_arn = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${var.names.raw_read_trail}"
  # CloudTrail's conditions: only this trail of this account.
  from_trail = { StringEquals = { "aws:SourceArn" = local.trail_arn } }

  trail_bucket_statements = var.settings.raw_read_audit ? [
    {
      Sid       = "CloudTrailChecksBucketAcl"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:GetBucketAcl"
      Resource  = "arn:${local.partition}:s3:::${var.names.audit_bucket}"
      Condition = local.from_trail
    },
    {
      Sid       = "CloudTrailWritesLogFiles"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "arn:${local.partition}:s3:::${var.names.audit_bucket}/AWSLogs/${local.account_id}/*"
      Condition = local.from_trail
    },
  ] : []

  trail_key_statements = var.settings.raw_read_audit ? [
    {
      Sid       = "CloudTrailEncryptsRawReadLog"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = ["kms:GenerateDataKey*", "kms:DescribeKey"]
      Resource  = "*"
      Condition = {
        StringEquals = { "aws:SourceArn" = local.trail_arn }
        StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*" }
      }
    },
  ] : []
}

resource "aws_cloudtrail" "raw_reads" {
  #checkov:skip=CKV_AWS_252: no SNS notice per log file: auditors read the bucket; nothing acts on each file
  #checkov:skip=CKV2_AWS_10: not also sent to CloudWatch Logs: the bucket is the record (validated digests), a second copy would double the cost
  count = var.settings.raw_read_audit ? 1 : 0

  name                          = var.names.raw_read_trail
  s3_bucket_name                = aws_s3_bucket.this["audit"].id
  kms_key_id                    = aws_kms_key.this.arn
  enable_log_file_validation    = true
  is_multi_region_trail         = true # the selector below logs one bucket's events only
  include_global_service_events = true

  advanced_event_selector {
    name = "Reads of raw pictures"

    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }
    field_selector {
      field       = "resources.ARN"
      starts_with = ["${aws_s3_bucket.this["raw"].arn}/"]
    }
    field_selector {
      field  = "readOnly"
      equals = ["true"]
    }
  }

  tags = var.tags

  # CloudTrail checks that it may write to the bucket when the trail is made.
  depends_on = [aws_s3_bucket_policy.this]
}
