# What connects the functions to the queues of modules/queues:
#   live_blur (async, from S3) --2 retries--> live DLQ
#   refine queue --mapping (disabled until the model runs)--> refine_worker
# and model_reconciler's permission to switch that mapping.

resource "aws_lambda_function_event_invoke_config" "live" {
  function_name          = aws_lambda_function.this["live_blur"].function_name
  maximum_retry_attempts = 2
  # A live retry must not arrive once the refinement of its day may have begun: an older
  # event goes to the DLQ instead (the picture is then refined from its model boxes alone).
  maximum_event_age_in_seconds = var.live.max_event_age_seconds

  destination_config {
    on_failure {
      destination = var.queues.live_dlq.arn
    }
  }
}

resource "aws_lambda_event_source_mapping" "refine" {
  event_source_arn        = var.queues.refine.arn
  function_name           = aws_lambda_function.this["refine_worker"].arn
  batch_size              = var.refine.batch_size
  function_response_types = ["ReportBatchItemFailures"] # failed pictures retry alone

  # The ceiling: model_reconciler sets each session's sized concurrency when it switches
  # the mapping on (refine/sizing.py).
  scaling_config {
    maximum_concurrency = var.refine.maximum_concurrency
  }

  # Off until the Custom Labels model is RUNNING: model_reconciler switches it on and off.
  enabled = false

  lifecycle {
    # The reconciler owns these at run time; a plan must not switch them back.
    ignore_changes = [enabled, scaling_config]
  }
}

# Here and not in modules/rekognition_iam: it names the mapping, which exists only once
# refine_worker does, which needs its role first.
resource "aws_iam_role_policy" "reconciler_mapping" {
  name = "switch-refine-mapping"
  role = var.roles["model_reconciler"].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SwitchRefineMapping"
      Effect   = "Allow"
      Action   = ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"]
      Resource = aws_lambda_event_source_mapping.refine.arn
    }]
  })
}
