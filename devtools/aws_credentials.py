"""Say what `make plan/deploy/destroy ENV=dev|prod` needs from AWS when it is missing.

    python -m devtools.aws_credentials dev     # exit 0: usable; exit 3: what is missing

Reads environments/<env>/terraform.tfvars (allowed_account_ids) and backend.hcl (the state
bucket) with python-hcl2, and asks STS who the current credentials are: boto3 resolves them
the way the Terraform provider does (environment, profile, SSO, web identity).
"""

from __future__ import annotations

import sys

import boto3
import botocore.exceptions

from devtools import tfconfig

EXIT_MISSING = 3
HELP = """make plan/deploy/destroy ENV={env} works on real AWS, and:{found}

It needs:
  - credentials for account {accounts} (environments/{env}/terraform.tfvars:
    allowed_account_ids), for a role that may read the stack's resources (plan) or change
    them (deploy, destroy);
  - the state bucket of environments/{env}/backend.hcl (s3://{bucket}/{key}),
    readable and writable by that role (locking writes a .tflock object beside the state).
Provide credentials in one of these ways:
  aws sso login --profile camblur-{env} && AWS_PROFILE=camblur-{env} make plan ENV={env}
  export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...]
  in CI: OIDC with aws-actions/configure-aws-credentials (.github/workflows/ci.yml)
No AWS at hand? `make plan ENV={env} EMBEDDED=1` plans this environment's configuration
against the embedded AWS endpoint, and `make up` deploys environments/local there."""


def problems(env: str, accounts: list[str], bucket: str) -> list[str]:
    found = []
    if "REPLACE-ME" in bucket:
        found.append(f"environments/{env}/backend.hcl still names the placeholder bucket {bucket}")
    try:
        account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
        if account not in accounts:
            found.append(
                f"the current credentials are for account {account}, not {', '.join(accounts)}"
            )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        found.append(f"no usable AWS credentials were found ({error})")
    return found


def main(argv: list[str] | None = None) -> int:
    [env] = sys.argv[1:] if argv is None else argv
    folder = tfconfig.ENVIRONMENTS / env
    accounts = [
        str(a) for a in tfconfig.load_hcl(folder / "terraform.tfvars")["allowed_account_ids"]
    ]
    backend = tfconfig.load_hcl(folder / "backend.hcl")
    bucket, key = str(backend["bucket"]), str(backend["key"])
    found = problems(env, accounts, bucket)
    if not found:
        return 0
    print(
        HELP.format(
            env=env,
            found="".join(f"\n  * {problem}" for problem in found),
            accounts=", ".join(accounts),
            bucket=bucket,
            key=key,
        ),
        file=sys.stderr,
    )
    return EXIT_MISSING


if __name__ == "__main__":
    raise SystemExit(main())
