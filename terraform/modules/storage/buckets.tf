# The buckets, all with the same protections. Separate buckets (not prefixes) so that writing a
# blurred picture can never trigger the live function again.

locals {
  buckets = {
    # Raw pictures are personal data: they live only as long as the refinement needs them.
    # Every version is bounded by raw_retention_days: current versions expire a day before,
    # a version overwritten or expired lives one day more as noncurrent (S3's minimum).
    raw = {
      name            = var.names.raw_bucket
      expiration_days = var.settings.raw_retention_days - 1
      noncurrent_days = 1
      kms_key_arn     = aws_kms_key.raw.arn
    }
    # Blurred pictures are the product: current versions are kept.
    # A replaced or deleted blurred copy (the live one a refinement improved on) is retrievable
    # by version id for one day only: versioning stays as a one-day undo for a faulty deploy.
    blurred = { name = var.names.blurred_bucket, expiration_days = null, noncurrent_days = 1, kms_key_arn = aws_kms_key.this.arn }
    # The Lambda zip (make build): over Lambda's 50 MB limit for a direct upload, so the
    # functions are deployed from here. Old versions expire like any noncurrent version.
    artifacts = {
      name            = var.names.artifacts_bucket
      expiration_days = null
      noncurrent_days = var.settings.artifact_retention_days
      kms_key_arn     = aws_kms_key.this.arn
    }
  }
  # The trail's log files (audit.tf), kept as long as the functions' logs.
  audit_bucket = {
    name            = var.names.audit_bucket
    expiration_days = var.settings.audit_retention_days
    noncurrent_days = 1
    kms_key_arn     = aws_kms_key.this.arn
  }
  all_buckets = merge(local.buckets, { for name, bucket in { audit = local.audit_bucket } : name => bucket if var.settings.raw_read_audit })

  # Statements each bucket's policy adds to the TLS-only one (all in Deny: the roles' IAM
  # policies grant; these take away from everyone else, whatever their IAM policies say).
  bucket_statements = {
    # Nobody but the raw readers gets a picture's bytes, by any read (HEAD is GetObject too).
    # Cameras still PUT; the operator still lists and deletes versions (camblur erase).
    raw = [{
      Sid       = "OnlyPipelineReadsRawPictures"
      Effect    = "Deny"
      Principal = "*"
      Action = [
        "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes",
        "s3:GetObjectVersionAttributes", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent",
        "s3:GetObjectVersionForReplication",
      ]
      Resource  = "${aws_s3_bucket.this["raw"].arn}/*"
      Condition = { ArnNotLike = { "aws:PrincipalArn" = local.raw_readers } }
    }]
    # Only the pipeline writes what the application shows. Deletes stay with IAM: the live pass
    # and camblur erase remove copies, and every version a delete could bring back was blurred.
    blurred = [{
      Sid       = "OnlyPipelineWritesBlurredPictures"
      Effect    = "Deny"
      Principal = "*"
      Action = [
        "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging", "s3:ReplicateObject",
      ]
      Resource  = "${aws_s3_bucket.this["blurred"].arn}/*"
      Condition = { ArnNotLike = { "aws:PrincipalArn" = var.access.blurred_writer_arns } }
    }]
    artifacts = []
    audit     = local.trail_bucket_statements
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18: no server access logs: reads of raw pictures are audited by the CloudTrail data-event trail (audit.tf, raw_read_audit); the others hold no personal data unblurred
  #checkov:skip=CKV_AWS_144: no cross-region replication: raw pictures expire within days and blurred ones can be recomputed while raw exists
  #checkov:skip=CKV2_AWS_62: only the raw bucket needs event notifications (pipeline module); nothing consumes blurred- or artifacts-bucket events
  for_each = local.all_buckets

  bucket        = each.value.name
  force_destroy = var.settings.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced" # no ACLs
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.all_buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled" # the state table records raw_version_id; refinement reads that exact version
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = each.value.kms_key_arn
    }
    bucket_key_enabled = true # fewer KMS requests, lower cost
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }], local.bucket_statements[each.key])
  })

  # S3 rejects a bucket policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "expire-and-clean-up"
    status = "Enabled"

    filter {}

    # Raw: current versions expire after N days (S3 then also removes the delete markers).
    # Blurred: only delete markers left without versions are removed.
    expiration {
      days                         = each.value.expiration_days
      expired_object_delete_marker = each.value.expiration_days == null ? true : null
    }

    noncurrent_version_expiration {
      noncurrent_days = each.value.noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # Lifecycle rules on a versioned bucket need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}
