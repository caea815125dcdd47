# The five functions of docs/architecture.md, all from one zip. Handler paths and
# environment variables are the contract with lambdas/camblur: the unit test
# tests/unit/test_terraform_contract.py reads `local.functions` below and compares it with
# camblur.config.ENVIRONMENT_BY_HANDLER. Keep every map literal so that it can.
#
# model_reconciler stands apart (local.reconciler, aws_lambda_function.reconciler): its
# environment names the refine mapping, and the mapping needs refine_worker to exist first.
# In one for_each with the others, that would be a dependency cycle.

locals {
  functions = {
    live_blur = {
      handler              = "camblur.handlers.live.handler"
      memory_mb            = var.live.memory_mb
      timeout_seconds      = var.live.timeout_seconds
      reserved_concurrency = var.live.reserved_concurrency
      environment = {
        RAW_BUCKET                   = var.storage.raw_bucket_name
        BLURRED_BUCKET               = var.storage.blurred_bucket_name
        STATE_TABLE                  = var.storage.state_table_name
        BLUR_STYLE                   = var.blur.style
        BLUR_MARGIN                  = tostring(var.blur.margin)
        JPEG_QUALITY                 = tostring(var.blur.jpeg_quality)
        MAX_IMAGE_PIXELS             = tostring(var.blur.max_image_pixels)
        MAX_OBJECT_BYTES             = tostring(var.blur.max_object_bytes)
        PERSON_MIN_CONFIDENCE        = tostring(var.live.person_min_confidence)
        PLATE_DETECTOR               = var.live.plate_detector
        REKOGNITION_TPS              = tostring(var.live.rekognition_tps)
        MAX_CONCURRENCY              = tostring(var.live.reserved_concurrency) # the instances that share it
        REKOGNITION_MAX_WAIT_SECONDS = tostring(var.live.rekognition_max_wait_seconds)
        CAPTURE_TIME_ZONE            = var.state.capture_time_zone
        RAW_KEY_PREFIX               = var.live.notification_filter.prefix # camera id follows it
        STATE_TTL_DAYS               = tostring(var.state.ttl_days)
        POWERTOOLS_SERVICE_NAME      = var.function_names["live_blur"]
        POWERTOOLS_METRICS_NAMESPACE = var.operations.metrics_namespace
        POWERTOOLS_LOG_LEVEL         = var.operations.log_level
      }
    }

    refine_schedule = {
      handler              = "camblur.handlers.schedule.handler"
      memory_mb            = 512
      timeout_seconds      = 300 # queries a whole capture day and queues it
      reserved_concurrency = 1   # one run at a time
      environment = {
        STATE_TABLE               = var.storage.state_table_name
        STATE_TTL_DAYS            = tostring(var.state.ttl_days)
        CAPTURE_TIME_ZONE         = var.state.capture_time_zone # "yesterday" in the sites' zone
        REFINE_QUEUE_URL          = var.queues.refine.url
        MODEL_PROJECT_ARN         = var.model.project_arn
        MODEL_VERSION_ARN         = var.model.version_arn
        MODEL_MIN_INFERENCE_UNITS = tostring(var.model.min_inference_units)
        MODEL_MAX_INFERENCE_UNITS = tostring(var.model.max_inference_units)
        REFINE_DAYS_BACK          = tostring(var.refine.days_back)
        # The sizing (refine/sizing.py): units, worker concurrency and watchdog per session
        REFINE_WINDOW_MINUTES               = tostring(var.refine.window_minutes)
        REFINE_PICTURES_PER_SECOND_PER_UNIT = tostring(var.refine.pictures_per_second_per_unit)
        REFINE_WORKER_SECONDS_PER_PICTURE   = tostring(var.refine.worker_seconds_per_picture)
        REKOGNITION_TPS                     = tostring(var.refine.rekognition_tps)
        MAX_CONCURRENCY                     = tostring(var.refine.maximum_concurrency)
        MODEL_MAX_RUN_MINUTES               = tostring(var.model.max_run_minutes)
        POWERTOOLS_SERVICE_NAME             = var.function_names["refine_schedule"]
        POWERTOOLS_METRICS_NAMESPACE        = var.operations.metrics_namespace
        POWERTOOLS_LOG_LEVEL                = var.operations.log_level
      }
    }

    refine_worker = {
      handler         = "camblur.handlers.refine.handler"
      memory_mb       = var.refine.memory_mb
      timeout_seconds = var.refine.timeout_seconds
      # The mapping's maximum_concurrency is the real limit; reserving as much keeps
      # other functions from starving it.
      reserved_concurrency = var.refine.maximum_concurrency
      environment = {
        RAW_BUCKET                   = var.storage.raw_bucket_name
        BLURRED_BUCKET               = var.storage.blurred_bucket_name
        STATE_TABLE                  = var.storage.state_table_name
        BLUR_STYLE                   = var.blur.style
        BLUR_MARGIN                  = tostring(var.blur.margin)
        JPEG_QUALITY                 = tostring(var.blur.jpeg_quality)
        MAX_IMAGE_PIXELS             = tostring(var.blur.max_image_pixels)
        MAX_OBJECT_BYTES             = tostring(var.blur.max_object_bytes)
        MODEL_VERSION_ARN            = var.model.version_arn # DetectCustomLabels needs no project
        CUSTOM_LABEL_NAMES           = join(",", var.refine.custom_label_names)
        CUSTOM_MIN_CONFIDENCE        = tostring(var.refine.custom_min_confidence)
        REKOGNITION_TPS              = tostring(var.refine.rekognition_tps)
        MAX_CONCURRENCY              = tostring(var.refine.maximum_concurrency)
        FUNCTION_TIMEOUT_SECONDS     = tostring(var.refine.timeout_seconds) # SDK waits fit in it
        MAX_RECEIVE_COUNT            = tostring(var.refine.max_receive_count)
        POWERTOOLS_SERVICE_NAME      = var.function_names["refine_worker"]
        POWERTOOLS_METRICS_NAMESPACE = var.operations.metrics_namespace
        POWERTOOLS_LOG_LEVEL         = var.operations.log_level
      }
    }

    status_counts = {
      handler         = "camblur.handlers.status_counts.handler"
      memory_mb       = 256
      timeout_seconds = 120 # a full batch (10,000 changes) is a few thousand small writes
      # One invocation per stream shard at a time (status_counts.tf); a few shards at most.
      reserved_concurrency = 10
      environment = {
        STATE_TABLE                  = var.storage.state_table_name
        POWERTOOLS_SERVICE_NAME      = var.function_names["status_counts"]
        POWERTOOLS_METRICS_NAMESPACE = var.operations.metrics_namespace
        POWERTOOLS_LOG_LEVEL         = var.operations.log_level
      }
    }
  }
}

locals {
  reconciler = {
    handler              = "camblur.handlers.reconcile.handler"
    memory_mb            = 256
    timeout_seconds      = 60
    reserved_concurrency = 1 # two reconcilers must never race to start/stop the model
    environment = {
      STATE_TABLE                  = var.storage.state_table_name
      REFINE_QUEUE_URL             = var.queues.refine.url
      MODEL_PROJECT_ARN            = var.model.project_arn
      MODEL_VERSION_ARN            = var.model.version_arn
      MODEL_MAX_RUN_MINUTES        = tostring(var.model.max_run_minutes)
      MODEL_DRAIN_CONFIRM_SECONDS  = tostring(var.model.drain_confirm_seconds)
      REFINE_MAPPING_UUID          = aws_lambda_event_source_mapping.refine.uuid
      POWERTOOLS_SERVICE_NAME      = var.function_names["model_reconciler"]
      POWERTOOLS_METRICS_NAMESPACE = var.operations.metrics_namespace
      POWERTOOLS_LOG_LEVEL         = var.operations.log_level
    }
  }
}

# Created before the functions so that Lambda does not create them without retention or key.
resource "aws_cloudwatch_log_group" "this" {
  for_each = var.function_names

  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.operations.log_retention_days
  kms_key_id        = var.storage.kms_key_arn

  tags = var.tags
}

# The zip goes to the artifacts bucket, and the functions are created from there: a zip with
# the plate detector (onnxruntime, numpy) is over Lambda's 50 MB limit for a direct upload. The
# key names the zip's hash, so a new build is a new object and every function follows it.
resource "aws_s3_object" "code" {
  bucket      = var.storage.artifacts_bucket_name
  key         = "lambda/camblur-lambda-${filesha256(var.code.zip_path)}.zip"
  source      = var.code.zip_path
  source_hash = filemd5(var.code.zip_path)
  kms_key_id  = var.storage.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116: no dead_letter_config: live_blur uses an on-failure destination (queues.tf), refine_worker its queue's redrive, the two scheduled functions are retried by the scheduler and alarmed on Errors
  #checkov:skip=CKV_AWS_117: no VPC: the functions only call AWS APIs; a VPC would need NAT or endpoints for S3, DynamoDB, SQS, Rekognition
  #checkov:skip=CKV_AWS_272: code signing needs an AWS Signer profile; the zip is built reproducibly by make build and deployed by path and hash
  #checkov:skip=CKV_AWS_50: X-Ray tracing not used: Powertools logs and EMF metrics cover it, and it would need xray:Put* on "*"
  for_each = local.functions

  function_name                  = var.function_names[each.key]
  role                           = var.roles[each.key].arn
  handler                        = each.value.handler
  runtime                        = var.code.runtime
  architectures                  = [var.code.architecture]
  s3_bucket                      = aws_s3_object.code.bucket
  s3_key                         = aws_s3_object.code.key
  source_code_hash               = filebase64sha256(var.code.zip_path)
  memory_size                    = each.value.memory_mb
  timeout                        = each.value.timeout_seconds
  reserved_concurrent_executions = each.value.reserved_concurrency
  kms_key_arn                    = var.storage.kms_key_arn

  environment {
    variables = each.value.environment
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this]
}

resource "aws_lambda_function" "reconciler" {
  #checkov:skip=CKV_AWS_116: same reason as aws_lambda_function.this above
  #checkov:skip=CKV_AWS_117: same reason as aws_lambda_function.this above
  #checkov:skip=CKV_AWS_272: same reason as aws_lambda_function.this above
  #checkov:skip=CKV_AWS_50: same reason as aws_lambda_function.this above
  function_name                  = var.function_names["model_reconciler"]
  role                           = var.roles["model_reconciler"].arn
  handler                        = local.reconciler.handler
  runtime                        = var.code.runtime
  architectures                  = [var.code.architecture]
  s3_bucket                      = aws_s3_object.code.bucket
  s3_key                         = aws_s3_object.code.key
  source_code_hash               = filebase64sha256(var.code.zip_path)
  memory_size                    = local.reconciler.memory_mb
  timeout                        = local.reconciler.timeout_seconds
  reserved_concurrent_executions = local.reconciler.reserved_concurrency
  kms_key_arn                    = var.storage.kms_key_arn

  environment {
    variables = local.reconciler.environment
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this]
}

locals {
  # All five, for alarms, dashboard and outputs.
  all_functions = merge(aws_lambda_function.this, { model_reconciler = aws_lambda_function.reconciler })
}
