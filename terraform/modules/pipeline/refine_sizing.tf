# A day the quotas cannot refine within model_max_run_minutes: refine_schedule reports it
# (run item `sizing_status_message`, metric RefineDayOverCapacity) before the model starts,
# and the next sessions finish what the watchdog leaves in the queue. Someone should raise a
# quota (inference units per model, DetectCustomLabels TPS) or the ceiling: `make cost` says
# which.
resource "aws_cloudwatch_metric_alarm" "refine_day_over_capacity" {
  alarm_name          = "${var.function_names["refine_schedule"]}-day-over-capacity"
  alarm_description   = "A capture day has more pictures than the Custom Labels quotas refine within model_max_run_minutes; see the run item's sizing_status_message and request the quotas make cost lists."
  namespace           = var.operations.metrics_namespace
  metric_name         = "RefineDayOverCapacity"
  dimensions          = { service = var.function_names["refine_schedule"] }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
