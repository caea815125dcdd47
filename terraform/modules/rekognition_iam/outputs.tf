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

output "access_policies" {
  description = "The managed policies for cameras (camera_uploader) and the application (blurred_reader): arn, name and document (JSON) each."
  value = {
    for name, policy in aws_iam_policy.access : name => {
      arn      = policy.arn
      name     = policy.name
      document = policy.policy
    }
  }
}
