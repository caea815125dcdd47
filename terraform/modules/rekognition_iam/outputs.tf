output "role_arns" {
  description = "Execution role ARN per function. Known only once the role's main policy exists, so that AWS's checks at function, destination and mapping creation see the permissions."
  value       = { for function, policy in aws_iam_role_policy.this : function => aws_iam_role.this[function].arn }
}

output "role_names" {
  description = "Execution role name per function."
  value       = { for function, role in aws_iam_role.this : function => role.name }
}

output "policies" {
  description = "Inline policy documents (JSON) by function, plus model_reconciler_mapping; for review and tests."
  value = merge(
    { for function, policy in aws_iam_role_policy.this : function => policy.policy },
    { model_reconciler_mapping = aws_iam_role_policy.reconciler_mapping.policy },
  )
}
