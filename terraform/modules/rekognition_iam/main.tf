# One role per function, each with one inline policy that lists exactly what the function
# does (docs/architecture.md). Resources are ARNs passed in: nothing is "*" unless AWS
# offers no resource type for the action (DetectLabels).
#
# Everything named here exists before the functions (storage, queues, log group names), so
# this module depends on nothing downstream. The one permission on something made after the
# functions, model_reconciler's on the refine mapping, is granted in modules/pipeline beside
# the mapping.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # arn:...:project/NAME/TIMESTAMP -> arn:...:project/NAME/version/*: every version's ARN.
  project_versions = "${join("/", slice(split("/", var.model.project_arn), 0, 2))}/version/*"

  # The ARN CloudWatch Logs gives a log group (the provider's `arn`, without ":*"), from the
  # name: the groups are made in modules/pipeline, after the roles.
  log_group_arns = {
    for function, name in var.log_group_names : function =>
    "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${name}"
  }
}

resource "aws_iam_role" "this" {
  for_each = var.role_names

  name = each.value
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

locals {
  # Statements that several functions share.
  write_logs = {
    for function, arn in local.log_group_arns : function => {
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${arn}:*"
    }
  }
  use_key = {
    # S3 (SSE-KMS) and DynamoDB encrypt with the key on the caller's behalf.
    Sid      = "UseDataKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = var.resources.kms_key_arn
  }
  read_raw = {
    Sid      = "ReadRawPictures"
    Effect   = "Allow"
    Action   = ["s3:GetObject", "s3:GetObjectVersion"] # GetObject also covers HeadObject
    Resource = "${var.resources.raw_bucket_arn}/*"
  }
  decrypt_raw = {
    # The raw bucket has its own key; its key policy lets these roles decrypt through S3 only.
    Sid       = "DecryptRawPictures"
    Effect    = "Allow"
    Action    = "kms:Decrypt"
    Resource  = var.resources.raw_kms_key_arn
    Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
  }
  tell_missing_raw = {
    # Without ListBucket, S3 answers 403 for a missing key; with it, 404 (state RAW_MISSING).
    Sid      = "TellMissingRawPictures"
    Effect   = "Allow"
    Action   = "s3:ListBucket"
    Resource = var.resources.raw_bucket_arn
  }
  write_blurred = {
    Sid      = "WriteBlurredPictures"
    Effect   = "Allow"
    Action   = "s3:PutObject"
    Resource = "${var.resources.blurred_bucket_arn}/*"
  }

  policies = {
    live_blur = {
      Version = "2012-10-17"
      Statement = [
        {
          # DetectLabels and DetectText (plate_detector = rekognition_text) have no resource
          # type in IAM: "*" is the only value AWS accepts.
          Sid      = "DetectPeopleAndPlates"
          Effect   = "Allow"
          Action   = ["rekognition:DetectLabels", "rekognition:DetectText"]
          Resource = "*"
        },
        local.read_raw,
        local.decrypt_raw,
        local.tell_missing_raw,
        local.write_blurred,
        {
          # A removed raw picture takes every version of its blurred copy with it.
          Sid      = "RemoveBlurredPictures"
          Effect   = "Allow"
          Action   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
          Resource = "${var.resources.blurred_bucket_arn}/*"
        },
        {
          # A manual box on a picture whose raw version expired: the published copy is
          # anonymised further (camblur.corrections). Blurred pictures only, never raw.
          Sid      = "ReadPublishedPictures"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "${var.resources.blurred_bucket_arn}/*"
        },
        {
          Sid      = "ListBlurredVersions"
          Effect   = "Allow"
          Action   = "s3:ListBucketVersions"
          Resource = var.resources.blurred_bucket_arn
        },
        {
          Sid      = "RecordState"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = var.resources.state_table_arn
        },
        local.use_key,
        {
          # Async on-failure destination: Lambda sends with the function's role.
          Sid      = "DeadLetterFailures"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = var.resources.live_dlq_arn
        },
        local.write_logs["live_blur"],
      ]
    }

    refine_schedule = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ListCaptureDay"
          Effect   = "Allow"
          Action   = "dynamodb:Query"
          Resource = var.resources.capture_day_index_arn
        },
        {
          Sid      = "RecordRun"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = var.resources.state_table_arn
        },
        local.use_key,
        {
          Sid      = "QueuePictures"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
          Resource = var.resources.refine_queue_arn
        },
        {
          Sid      = "StartModel"
          Effect   = "Allow"
          Action   = "rekognition:StartProjectVersion"
          Resource = var.model.version_arn
        },
        {
          Sid      = "WatchModel"
          Effect   = "Allow"
          Action   = "rekognition:DescribeProjectVersions"
          Resource = var.model.project_arn
        },
        local.write_logs["refine_schedule"],
      ]
    }

    refine_worker = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "DetectWithModel"
          Effect   = "Allow"
          Action   = "rekognition:DetectCustomLabels"
          Resource = var.model.version_arn
        },
        local.read_raw,
        local.decrypt_raw,
        local.tell_missing_raw,
        local.write_blurred,
        {
          Sid      = "RecordState"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
          Resource = var.resources.state_table_arn
        },
        local.use_key,
        {
          # What the event source mapping needs to poll the queue on the function's behalf.
          Sid      = "ConsumeRefineQueue"
          Effect   = "Allow"
          Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
          Resource = var.resources.refine_queue_arn
        },
        local.write_logs["refine_worker"],
      ]
    }

    model_reconciler = {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "WatchModel"
          Effect   = "Allow"
          Action   = "rekognition:DescribeProjectVersions"
          Resource = var.model.project_arn
        },
        {
          # Start: when the schedule could not (a model still STOPPING), the reconciler does;
          # only the configured model.
          Sid      = "StartModel"
          Effect   = "Allow"
          Action   = "rekognition:StartProjectVersion"
          Resource = var.model.version_arn
        },
        {
          # Stop: any version of the project. After a rotation (a new model_version_arn
          # mid-session) the model still billing is the session's old one.
          Sid      = "StopAnyVersionOfTheProject"
          Effect   = "Allow"
          Action   = "rekognition:StopProjectVersion"
          Resource = local.project_versions
        },
        {
          Sid      = "WatchQueue"
          Effect   = "Allow"
          Action   = "sqs:GetQueueAttributes"
          Resource = var.resources.refine_queue_arn
        },
        {
          # DeleteItem: a finished model session's item is removed (RunTable.end_session).
          Sid      = "RecordRun"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          Resource = var.resources.state_table_arn
        },
        local.use_key,
        local.write_logs["model_reconciler"],
      ]
    }

    status_counts = {
      Version = "2012-10-17"
      Statement = [
        {
          # What the event source mapping needs to read the table's stream for the function.
          Sid      = "ReadStateStream"
          Effect   = "Allow"
          Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
          Resource = var.resources.state_stream_arn
        },
        {
          # The counts items only (COUNTS#<day>): never a picture, run or session item.
          Sid      = "KeepStatusCounts"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
          Resource = var.resources.state_table_arn
          Condition = {
            "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["COUNTS#*"] }
          }
        },
        local.use_key,
        {
          # The mapping's on-failure destination: Lambda sends with the function's role.
          Sid      = "DeadLetterFailedBatches"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = var.resources.counts_dlq_arn
        },
        local.write_logs["status_counts"],
      ]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = "least-privilege"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode(each.value)
}
