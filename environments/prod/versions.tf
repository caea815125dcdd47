terraform {
  # 1.10: S3 backend with use_lockfile (no DynamoDB lock table).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Bucket, key and region come from backend.hcl: terraform init -backend-config=backend.hcl
  # (make plan ENV=prod does this).
  backend "s3" {}
}
