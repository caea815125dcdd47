# Least privilege, read from the policies the rekognition_iam module writes.
# Inputs are literal ARNs, so every policy is known at plan time. model_reconciler's policy on
# the refine mapping is made beside the mapping: pipeline.tftest.hcl checks it.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  role_names = {
    live_blur        = "t-live-blur"
    refine_schedule  = "t-refine-schedule"
    refine_worker    = "t-refine-worker"
    model_reconciler = "t-model-reconciler"
    status_counts    = "t-status-counts"
  }
  log_group_names = {
    live_blur        = "/aws/lambda/t-live-blur"
    refine_schedule  = "/aws/lambda/t-refine-schedule"
    refine_worker    = "/aws/lambda/t-refine-worker"
    model_reconciler = "/aws/lambda/t-model-reconciler"
    status_counts    = "/aws/lambda/t-status-counts"
  }
  resources = {
    raw_bucket_arn        = "arn:aws:s3:::t-raw"
    blurred_bucket_arn    = "arn:aws:s3:::t-blurred"
    state_table_arn       = "arn:aws:dynamodb:eu-west-1:123456789012:table/t-state"
    capture_day_index_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/t-state/index/by_capture_day"
    kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    raw_kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/11111111-1111-1111-1111-111111111111"
    live_dlq_arn          = "arn:aws:sqs:eu-west-1:123456789012:t-live-dlq"
    refine_queue_arn      = "arn:aws:sqs:eu-west-1:123456789012:t-refine"
    state_stream_arn      = "arn:aws:dynamodb:eu-west-1:123456789012:table/t-state/stream/2026-12-01T00:00:00.000"
    counts_dlq_arn        = "arn:aws:sqs:eu-west-1:123456789012:t-counts-dlq"
  }
  access_policy_names = { camera_uploader = "t-camera-uploader", blurred_reader = "t-blurred-reader" }
  raw_upload_prefix   = "cameras/"
  model = {
    project_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/people/1700000000000"
    version_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/people/version/people.v1/1700000000001"
  }
}

run "policies_are_least_privilege" {
  command = plan

  module {
    source = "./modules/rekognition_iam"
  }

  assert {
    condition = (
      { for statement in jsondecode(aws_iam_role_policy.this["status_counts"].policy).Statement : statement.Sid => statement.Resource if startswith(statement.Sid, "Read") || startswith(statement.Sid, "Keep") } == {
        ReadStateStream  = var.resources.state_stream_arn
        KeepStatusCounts = var.resources.state_table_arn
      } &&
      [for statement in jsondecode(aws_iam_role_policy.this["status_counts"].policy).Statement : statement.Condition if statement.Sid == "KeepStatusCounts"] == [{ "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["COUNTS#*"] } }] &&
      [for statement in jsondecode(aws_iam_role_policy.this["status_counts"].policy).Statement : toset(statement.Action) if statement.Sid == "KeepStatusCounts"] == [toset(["dynamodb:GetItem", "dynamodb:UpdateItem"])]
    )
    error_message = "status_counts reads the table's stream and may get and update the counts items (COUNTS#...) only: never a picture, run or session item."
  }


  assert {
    condition = alltrue(flatten([
      for function, policy in aws_iam_role_policy.this : [
        for statement in jsondecode(policy.policy).Statement : [
          for resource in flatten([statement.Resource]) :
          resource != "*" || (function == "live_blur" && flatten([statement.Action]) == ["rekognition:DetectLabels", "rekognition:DetectText"])
        ]
      ]
    ]))
    error_message = "Only live_blur's DetectLabels and DetectText may use Resource \"*\" (AWS has no resource type for them)."
  }

  assert {
    condition = alltrue(flatten([
      for policy in values(aws_iam_role_policy.this)[*].policy : [
        for statement in jsondecode(policy).Statement : [
          for action in flatten([statement.Action]) : !endswith(action, "*")
        ]
      ]
    ]))
    error_message = "No policy may grant a wildcard action."
  }

  assert {
    condition = length([
      for statement in jsondecode(aws_iam_role_policy.this["live_blur"].policy).Statement : statement
      if anytrue([for action in flatten([statement.Action]) : strcontains(action, "CustomLabels") || strcontains(action, "ProjectVersion")])
    ]) == 0
    error_message = "live_blur must have no Custom Labels permission."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.this["refine_worker"].policy).Statement : statement.Resource
      if contains(flatten([statement.Action]), "rekognition:DetectCustomLabels")
    ] == [var.model.version_arn]
    error_message = "refine_worker may call DetectCustomLabels on the configured model only."
  }

  assert {
    condition = alltrue(flatten([
      for function, policy in aws_iam_role_policy.this : [
        for statement in jsondecode(policy.policy).Statement :
        !contains(flatten([statement.Action]), "rekognition:DetectCustomLabels") || function == "refine_worker"
      ]
    ]))
    error_message = "Only refine_worker may call DetectCustomLabels."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.this["refine_schedule"].policy).Statement : statement.Resource
      if contains(flatten([statement.Action]), "dynamodb:Query")
    ] == [var.resources.capture_day_index_arn]
    error_message = "refine_schedule may query the by_capture_day index only."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.this["model_reconciler"].policy).Statement : statement.Resource
      if contains(flatten([statement.Action]), "rekognition:StopProjectVersion")
    ] == ["arn:aws:rekognition:eu-west-1:123456789012:project/people/version/*"]
    error_message = "model_reconciler may stop any version of the project (a rotated model), nothing else."
  }

  assert {
    condition = alltrue([
      for function in keys(var.role_names) :
      contains(jsondecode(aws_iam_role_policy.this[function].policy).Statement[*].Resource, "arn:aws:logs:eu-west-1:123456789012:log-group:${var.log_group_names[function]}:*")
    ])
    error_message = "Each function writes its own log group, and no other."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this["live_blur"].policy).Statement :
      !contains(flatten([statement.Action]), "s3:PutObject") || statement.Resource == "${var.resources.blurred_bucket_arn}/*"
    ])
    error_message = "live_blur writes the blurred bucket only (never the raw one: no trigger loop)."
  }

  assert {
    condition = alltrue(flatten([
      for function in keys(var.role_names) : [
        for statement in jsondecode(aws_iam_role_policy.this[function].policy).Statement :
        !anytrue([for action in flatten([statement.Action]) : startswith(action, "s3:Delete")]) ||
        (function == "live_blur" && statement.Resource == "${var.resources.blurred_bucket_arn}/*")
      ]
    ]))
    error_message = "Only live_blur deletes, and only blurred copies (a removed raw picture's): no function deletes raw pictures."
  }

  assert {
    condition = [
      for function in keys(var.role_names) : function
      if anytrue([
        for statement in jsondecode(aws_iam_role_policy.this[function].policy).Statement :
        contains(flatten([statement.Action]), "s3:GetObject") && statement.Resource == "${var.resources.blurred_bucket_arn}/*"
      ])
    ] == ["live_blur"]
    error_message = "live_blur, and only it, reads published copies (a manual box on a picture whose raw expired is applied to the copy)."
  }
}

run "role_names_need_all_four_functions" {
  command = plan

  module {
    source = "./modules/rekognition_iam"
  }

  variables {
    role_names = { live_blur = "t-live-blur" }
  }

  expect_failures = [var.role_names]
}
