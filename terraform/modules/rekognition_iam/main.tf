# One role per function, each with one inline policy that lists exactly what the function
# does (docs/architecture.md). Resources are ARNs passed in: nothing is "*" unless AWS
# offers no resource type for the action (DetectLabels).

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
    for function, arn in var.log_group_arns : function => {
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
    Resource = var.kms_key_arn
  }
  read_raw = {
    Sid      = "ReadRawPictures"
    Effect   = "Allow"
    Action   = ["s3:GetObject", "s3:GetObjectVersion"] # GetObject also covers HeadObject
    Resource = "${var.raw_bucket_arn}/*"
  }
  tell_missing_raw = {
    # Without ListBucket, S3 answers 403 for a missing key; with it, 404 (state RAW_MISSING).
    Sid      = "TellMissingRawPictures"
    Effect   = "Allow"
    Action   = "s3:ListBucket"
    Resource = var.raw_bucket_arn
  }
  write_blurred = {
    Sid      = "WriteBlurredPictures"
    Effect   = "Allow"
    Action   = "s3:PutObject"
    Resource = "${var.blurred_bucket_arn}/*"
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
        local.tell_missing_raw,
        local.write_blurred,
        {
          Sid      = "RecordState"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = var.state_table_arn
        },
        local.use_key,
        {
          # Async on-failure destination: Lambda sends with the function's role.
          Sid      = "DeadLetterFailures"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = var.live_dlq_arn
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
          Resource = var.capture_day_index_arn
        },
        {
          Sid      = "RecordRun"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = var.state_table_arn
        },
        local.use_key,
        {
          Sid      = "QueuePictures"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
          Resource = var.refine_queue_arn
        },
        {
          Sid      = "StartModel"
          Effect   = "Allow"
          Action   = "rekognition:StartProjectVersion"
          Resource = var.model_version_arn
        },
        {
          Sid      = "WatchModel"
          Effect   = "Allow"
          Action   = "rekognition:DescribeProjectVersions"
          Resource = var.model_project_arn
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
          Resource = var.model_version_arn
        },
        local.read_raw,
        local.tell_missing_raw,
        local.write_blurred,
        {
          Sid      = "RecordState"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
          Resource = var.state_table_arn
        },
        local.use_key,
        {
          # What the event source mapping needs to poll the queue on the function's behalf.
          Sid      = "ConsumeRefineQueue"
          Effect   = "Allow"
          Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
          Resource = var.refine_queue_arn
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
          Resource = var.model_project_arn
        },
        {
          # Start: when the schedule could not (a model still STOPPING), the reconciler does.
          Sid      = "StartAndStopModel"
          Effect   = "Allow"
          Action   = ["rekognition:StartProjectVersion", "rekognition:StopProjectVersion"]
          Resource = var.model_version_arn
        },
        {
          Sid      = "WatchQueue"
          Effect   = "Allow"
          Action   = "sqs:GetQueueAttributes"
          Resource = var.refine_queue_arn
        },
        {
          # DeleteItem: a finished model session's item is removed (RunTable.end_session).
          Sid      = "RecordRun"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          Resource = var.state_table_arn
        },
        local.use_key,
        local.write_logs["model_reconciler"],
      ]
    }
  }

  # Its own policy: it names the mapping, and the mapping can only exist once the worker's
  # role (above) is in place. Keeping it apart keeps the dependency graph acyclic.
  reconciler_mapping_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SwitchRefineMapping"
      Effect   = "Allow"
      Action   = ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"]
      Resource = var.refine_mapping_arn
    }]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = "least-privilege"
  role   = aws_iam_role.this[each.key].id
  policy = jsonencode(each.value)
}

resource "aws_iam_role_policy" "reconciler_mapping" {
  name   = "switch-refine-mapping"
  role   = aws_iam_role.this["model_reconciler"].id
  policy = jsonencode(local.reconciler_mapping_policy)
}
