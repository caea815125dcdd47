output "role_arn" {
  description = "ARN of the role EventBridge Scheduler assumes."
  value       = aws_iam_role.this.arn
}

output "schedule_arns" {
  description = "ARNs of the refine (daily) and reconcile (rate) schedules."
  value = {
    refine_schedule  = aws_scheduler_schedule.refine.arn
    model_reconciler = aws_scheduler_schedule.reconcile.arn
  }
}

output "refine_schedule" {
  description = "Expression and time zone of the daily refinement."
  value = {
    expression = aws_scheduler_schedule.refine.schedule_expression
    time_zone  = aws_scheduler_schedule.refine.schedule_expression_timezone
  }
}
