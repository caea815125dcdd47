# Blur state: one item per picture (pk = PICTURE#<sha256 of the raw key>, sk = STATE) and one per
# refinement run (pk = RUN#<capture day>, sk = RUN). See docs/architecture.md.

locals {
  capture_day_index = "by_capture_day"
  camera_index      = "by_camera"
}

resource "aws_dynamodb_table" "this" {
  name                        = var.names.state_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.settings.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "capture_day"
    type = "S"
  }

  attribute {
    name = "camera_id"
    type = "S"
  }

  attribute {
    name = "captured_at"
    type = "S"
  }

  # refine_schedule lists one day's pictures without a scan; `camblur status --day` counts them
  # from what the index holds (status, reason, refine_outcome), never reading the items.
  global_secondary_index {
    name               = local.capture_day_index
    hash_key           = "capture_day"
    range_key          = "pk"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status", "reason", "refine_outcome", "raw_key", "raw_version_id", "camera_id"]
  }

  # `camblur status --camera`, `reprocess --camera` and `erase --camera` find a camera's
  # pictures in a time range without a scan.
  global_secondary_index {
    name               = local.camera_index
    hash_key           = "camera_id"
    range_key          = "captured_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["status", "reason", "refine_outcome", "raw_key", "raw_version_id", "capture_day"]
  }

  # status_counts keeps the per camera and day counts `camblur status` reads from this stream
  # (lambdas/camblur/status_counts.py): old and new image, to take a change's old status away.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = var.tags
}
