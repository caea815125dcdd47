# Managed policies for the principals that are not the pipeline; attach them to your cameras'
# and your application's IAM users or roles (outputs camera_uploader_policy and
# blurred_reader_policy of the stack).
#
# - Cameras upload and read nothing: PutObject under the live trigger's prefix (a key outside
#   it would never be blurred) and a data key of the raw key to encrypt with. Single PUTs
#   (up to 5 GB): a multipart upload under SSE-KMS also needs kms:Decrypt, which cameras do not get.
# - The application reads the current blurred pictures: GetObject (not GetObjectVersion, so a
#   replaced copy is never served by version id), the listing, and the main key via S3.

locals {
  access_policies = {
    camera_uploader = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "UploadRawPictures"
          Effect   = "Allow"
          Action   = "s3:PutObject"
          Resource = "${var.resources.raw_bucket_arn}/${var.raw_upload_prefix}*"
        },
        {
          Sid       = "EncryptRawPictures"
          Effect    = "Allow"
          Action    = "kms:GenerateDataKey"
          Resource  = var.resources.raw_kms_key_arn
          Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
        },
      ]
    }

    blurred_reader = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ReadBlurredPictures"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${var.resources.blurred_bucket_arn}/*"
        },
        {
          Sid      = "ListBlurredPictures"
          Effect   = "Allow"
          Action   = "s3:ListBucket"
          Resource = var.resources.blurred_bucket_arn
        },
        {
          Sid       = "DecryptBlurredPictures"
          Effect    = "Allow"
          Action    = "kms:Decrypt"
          Resource  = var.resources.kms_key_arn
          Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
        },
      ]
    }
  }
}

resource "aws_iam_policy" "access" {
  for_each = local.access_policies

  name        = var.access_policy_names[each.key]
  description = each.key == "camera_uploader" ? "camblur: upload raw pictures; read nothing" : "camblur: read the current blurred pictures"
  policy      = jsonencode(each.value)

  tags = var.tags
}
