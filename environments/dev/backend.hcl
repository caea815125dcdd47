# S3 backend of the dev environment. Create the bucket once (versioned, encrypted, private),
# then replace the placeholder. Locking uses an S3 lock file next to the state.
bucket       = "REPLACE-ME-camblur-terraform-state"
key          = "camblur/dev/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
