terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State stays on this machine (gitignored); the embedded endpoint forgets everything when
  # it stops, so make down / make up start over.
  backend "local" {}
}
