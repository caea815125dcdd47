"""Helpers for tests that read the deployment of environments/local (see conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devtools.demo import LocalEnvironment

REGION = "eu-west-1"  # environments/local/variables.tf


def aws_client(endpoint_url: str, service: str) -> Any:
    """A boto3 client for the embedded endpoint, with its fake keys."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def terraform_show(environment: LocalEnvironment) -> dict[str, Any]:
    """`terraform show -json` of the deployment's state as it is now."""
    return dict(json.loads(environment.terraform.run("show", "-json")))


def count_resources(show: dict[str, Any]) -> int:
    """Managed resources in a `terraform show -json` document, child modules included."""

    def count(module: dict[str, Any]) -> int:
        own = [r for r in module.get("resources", []) if r["mode"] == "managed"]
        return len(own) + sum(count(child) for child in module.get("child_modules", []))

    return count(show.get("values", {}).get("root_module", {}))
