# The state table's stream --> status_counts, which keeps the per camera and day counts that
# `camblur status` reads (lambdas/camblur/status_counts.py). Counting is exactly once per
# change whatever Lambda retries, so failures are retried and bisected freely.

resource "aws_lambda_event_source_mapping" "status_counts" {
  event_source_arn  = var.storage.state_stream_arn
  function_name     = aws_lambda_function.this["status_counts"].arn
  starting_position = "TRIM_HORIZON" # nothing written before the mapping exists is missed
  # The most Lambda allows for a stream: a burst (the live tick, a refinement) then takes few
  # writes, as changes of one camera's day share one bucket write and one summary write.
  batch_size                         = 10000
  maximum_batching_window_in_seconds = 5
  # One batch per shard at a time: the counts rely on one item's changes arriving in order.
  parallelization_factor         = 1
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = 10
  maximum_record_age_in_seconds  = -1 # the stream keeps records 24 hours

  # Picture items only: run, session, zone and counts items (the function's own writes) are
  # not passed to it.
  filter_criteria {
    filter {
      pattern = jsonencode({ dynamodb = { Keys = { sk = { S = ["STATE"] } } } })
    }
  }

  destination_config {
    on_failure {
      destination_arn = var.queues.counts_dlq.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "status_counts_behind" {
  alarm_name          = "${var.function_names["status_counts"]}-behind"
  alarm_description   = "status_counts is more than 10 minutes behind the state table's stream: camblur status shows old counts (the pictures themselves are not affected). Check the function's errors and throttles."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = var.function_names["status_counts"] }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 600000 # milliseconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions

  tags = var.tags
}
