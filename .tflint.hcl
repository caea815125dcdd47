# tflint for camblur: the Terraform language rules and the AWS ruleset, pinned.
# Run from the repository root: tflint --init && tflint --recursive --config "$PWD/.tflint.hcl"
# (CI does this; it cannot be installed on the offline dev machines, where checkov runs).

config {
  call_module_type = "local" # follow ../../terraform and ./modules/*
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.45.0" # bump deliberately, with the tflint version in .github/workflows/ci.yml
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}

rule "terraform_naming_convention" {
  enabled = true
  format  = "snake_case"
}

rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}

rule "terraform_typed_variables" {
  enabled = true
}
