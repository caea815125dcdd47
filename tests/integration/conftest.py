"""One deployment of environments/local for the whole test session.

`local_environment` starts the embedded AWS endpoint and the local Rekognition, applies
environments/local with its real Terraform once (about a minute and a half), yields it to every
integration test, and destroys it at the end of the session, checking that nothing is left.

Under pytest-xdist (`make test`: `-n 2 --dist loadgroup`) every test that uses the deployment
is put in one xdist_group here, so one worker owns it while the other runs the unit tests.

Order: tests marked `pristine_stack` read the stack as Terraform left it (its resources, an
empty second plan); they run first. The others run after them in file order. Tests that change
the stack use keys of their own or put back what they change.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.demo import ARTIFACT, LocalEnvironment
from tests.integration.deployment import aws_client, count_resources, terraform_show

DEPLOYMENT_FIXTURE = "local_environment"
DEPLOYMENT_GROUP = "local_environment"
ROOT = Path(__file__).resolve().parents[2]
SETUP_SECONDS = pytest.StashKey[float]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pristine_stack: reads the deployment as Terraform left it; runs before the other "
        "tests that use the deployment",
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deployed = [item for item in items if DEPLOYMENT_FIXTURE in getattr(item, "fixturenames", ())]
    for item in deployed:
        item.add_marker(pytest.mark.xdist_group(DEPLOYMENT_GROUP))
        item.add_marker(pytest.mark.integration)
    # A stable sort: pristine tests first, every other test keeps its place.
    first = {id(item) for item in deployed if item.get_closest_marker("pristine_stack")}
    items.sort(key=lambda item: 0 if id(item) in first else 1)


def _ensure_artifact() -> None:
    """dist/camblur-lambda.zip as `make build` makes it (make test builds it first)."""
    if ARTIFACT.is_file():
        return
    build = subprocess.run(
        [sys.executable, "-m", "devtools.build_lambda", "--output", str(ARTIFACT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0 or not ARTIFACT.is_file():
        pytest.fail(
            f"{ARTIFACT.relative_to(ROOT)} is missing and building it failed; run `make build`."
            f"\n{build.stdout}\n{build.stderr}"
        )


def _only_one_worker_deploys(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fail loudly, not slowly, when a second xdist worker would deploy the stack again."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    # The workers' temporary folders share one parent per session.
    owner = tmp_path_factory.getbasetemp().parent / "local-environment.owner"
    try:
        with owner.open("x") as file:
            file.write(worker)
    except FileExistsError:
        pytest.fail(
            f"{owner.read_text()} already deployed environments/local in this session: the "
            f"tests that use it are not in one xdist_group (run with --dist loadgroup; "
            f"pytest 9.2 with pytest-xdist 3.8 drops the groups, pytest-xdist issue 1386)"
        )


@pytest.fixture(scope="session")
def local_environment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalEnvironment]:
    """environments/local applied once to the embedded endpoint; destroyed at the end."""
    _only_one_worker_deploys(tmp_path_factory)
    _ensure_artifact()
    workdir = tmp_path_factory.mktemp("local-environment")
    started = time.monotonic()
    # destroy=False: the destroy below is checked; LocalEnvironment's own only reports failures.
    with LocalEnvironment(
        workdir, model_start_seconds=1.0, destroy=False, report=lambda message: None
    ) as environment:
        request.config.stash[SETUP_SECONDS] = time.monotonic() - started
        yield environment
        # Destroy works: Terraform removes all it made (the endpoint still runs until the end).
        environment.terraform.destroy()
        left = count_resources(terraform_show(environment))
        assert left == 0, f"{left} resources still in the state after terraform destroy"
        buckets = aws_client(environment.aws_url, "s3").list_buckets()["Buckets"]
        deployed = {environment.deployment.raw_bucket, environment.deployment.blurred_bucket}
        assert not deployed & {bucket["Name"] for bucket in buckets}, buckets
        functions = aws_client(environment.aws_url, "lambda").list_functions()["Functions"]
        assert not functions, [function["FunctionName"] for function in functions]


@pytest.fixture(scope="session")
def deployment_seconds(
    local_environment: LocalEnvironment, request: pytest.FixtureRequest
) -> float:
    """How long starting the endpoints plus terraform init and apply took (a figure, not a test)."""
    return request.config.stash[SETUP_SECONDS]
