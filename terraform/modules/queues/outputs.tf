output "live_dlq" {
  description = "live_blur's failure queue: arn, name."
  value       = { arn = aws_sqs_queue.live_dlq.arn, name = aws_sqs_queue.live_dlq.name }
}

output "refine" {
  description = "The refine queue: arn, name, url."
  value       = { arn = aws_sqs_queue.refine.arn, name = aws_sqs_queue.refine.name, url = aws_sqs_queue.refine.url }
}

output "refine_dlq" {
  description = "The refine dead-letter queue: arn, name."
  value       = { arn = aws_sqs_queue.refine_dlq.arn, name = aws_sqs_queue.refine_dlq.name }
}

output "counts_dlq" {
  description = "status_counts' failure destination: arn, name."
  value       = { arn = aws_sqs_queue.counts_dlq.arn, name = aws_sqs_queue.counts_dlq.name }
}
