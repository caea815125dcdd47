output "roles" {
  description = "Execution role (arn, name) per function. Known only once the role's policy exists, so that AWS's checks at function, destination and mapping creation see the permissions."
  value = {
    for function, policy in aws_iam_role_policy.this : function => {
      arn  = aws_iam_role.this[function].arn
      name = aws_iam_role.this[function].name
    }
  }
}

output "policies" {
  description = "Inline policy document (JSON) per function; for review and tests."
  value       = { for function, policy in aws_iam_role_policy.this : function => policy.policy }
}
