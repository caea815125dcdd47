"""`make up`'s event pump and `make down`, on the embedded endpoint.

Given the session's deployment of environments/local (tests/integration/conftest.py) and the
pump started as `make up` starts it (devtools.pump.start: a background process),
when a client of its own uploads a picture through the endpoint, as `aws s3 cp` would, and
then deletes it,
then a blurred copy and a LIVE_BLURRED state item appear, then both go (DELETED), with no
help from the test: S3's notification reached the live queue and the pump's poller of the
live mapping ran live_blur. Stopping the pump leaves no process.

`make down` (devtools.pump.down) after a raw DELETE: on a stack of its own, the smallest that
shows moto's failure (a versioned bucket with force_destroy and a delete marker), it destroys,
stops the pump and the endpoint, exits 0 and leaves no process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import pump, samples
from devtools.demo import LocalEnvironment
from localaws import embedded
from tests.integration.deployment import aws_client

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent / "fixtures" / "versioned_bucket"
DEADLINE_SECONDS = 180.0  # not a timing assertion: how long to wait before calling it lost


def eventually(condition: Callable[[], Any], what: str, log: Path) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    tail = "\n".join(log.read_text().splitlines()[-30:]) if log.exists() else "(no log)"
    pytest.fail(f"{what}: not after {DEADLINE_SECONDS:.0f} s; the pump's log ends:\n{tail}")


def test_an_upload_by_any_client_is_blurred_and_its_delete_honoured(
    local_environment: LocalEnvironment, tmp_path: Path
) -> None:
    env = local_environment
    state_dir = tmp_path / "embedded-aws"
    pid = pump.start(
        env.aws_url,
        state_dir=state_dir,
        artifact=env.delivery.code.zip_path,  # the deployed zip
        rekognition_url=env.rekognition.url,
    )
    log = state_dir / "pump.log"
    s3 = aws_client(env.aws_url, "s3")  # a client of its own: nothing of deliver.py
    raw = env.deployment.raw_bucket
    key = "cameras/pump-check/any client.jpg"
    picture = samples.generate()[0]
    try:
        s3.put_object(Bucket=raw, Key=key, Body=picture.data, ContentType="image/jpeg")

        # The state item is written last (after the blurred copy): wait for it.
        item = eventually(
            lambda: (
                env.picture_states().get(key, {}).get("status") == "LIVE_BLURRED"
                and env.picture_states()[key]
            ),
            "the LIVE_BLURRED item",
            log,
        )
        blurred = env.blurred(key)
        assert blurred is not None and blurred != picture.data
        assert item["raw_version_id"] == s3.head_object(Bucket=raw, Key=key)["VersionId"]

        s3.delete_object(Bucket=raw, Key=key)  # a delete marker: the copy must go

        eventually(
            lambda: env.picture_states()[key]["status"] == "DELETED" and env.blurred(key) is None,
            "the DELETED item and no blurred copy",
            log,
        )
    finally:
        assert pump.stop(state_dir), "the pump was not running any more"
    assert not embedded._alive(pid)
    assert pump.running(state_dir) is None
    assert env.queues()["live queue"] == (0, 0)


def terraform(workdir: Path, url: str, *args: str) -> None:
    env = {**os.environ, "TF_VAR_aws_endpoint_url": url, "TF_IN_AUTOMATION": "1"}
    cli_config = embedded.terraform_cli_config()  # the provider mirror, when there is one
    if cli_config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    done = subprocess.run(
        ["terraform", f"-chdir={workdir}", *args, "-input=false", "-no-color"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"terraform {args[0]}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def small_stack(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """The fixture stack applied to an endpoint of its own, started as `make up` starts it."""
    state_dir = tmp_path / "embedded-aws"
    url, _ = embedded.start(state_dir)
    workdir = tmp_path / "configuration"
    shutil.copytree(FIXTURE, workdir)
    try:
        terraform(workdir, url, "init")
        terraform(workdir, url, "apply", "-auto-approve")
        yield workdir, state_dir, url
    finally:
        pump.stop(state_dir)
        embedded.stop(state_dir)


def tiny_artifact(folder: Path) -> Path:
    """A zip for the pump's sandboxes: no function runs on this stack."""
    path = folder / "tiny.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("camblur/__init__.py", "")
    return path


def test_make_down_after_a_raw_delete_exits_0_and_leaves_no_process(
    small_stack: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    workdir, state_dir, url = small_stack
    s3 = aws_client(url, "s3")
    bucket = "camblur-down-check-raw"
    s3.put_object(Bucket=bucket, Key="cameras/cam-1/a.jpg", Body=b"picture")
    s3.delete_object(Bucket=bucket, Key="cameras/cam-1/a.jpg")  # the delete marker
    pump_pid = pump.start(url, state_dir=state_dir, artifact=tiny_artifact(workdir.parent))
    server_pid = int((state_dir / "pid").read_text())

    assert pump.down(workdir, state_dir) == 0

    printed = capsys.readouterr()
    assert "terraform destroy failed" not in printed.err  # the delete marker too
    assert "Destroy complete! Resources:" in printed.out  # the plan itself went to the log
    assert "will be destroyed" in (state_dir / "destroy.log").read_text()

    assert not embedded._alive(pump_pid), "the pump outlived make down"
    assert not embedded._alive(server_pid), "the endpoint outlived make down"
    assert embedded.running_url(state_dir) is None
    assert not (workdir / "terraform.tfstate").exists()


def test_make_down_without_terraform_still_stops_the_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A machine where terraform is gone (or will not start): down says so, and still stops
    the endpoint and forgets the state, so the next make up starts clean."""
    state_dir, workdir = tmp_path / "embedded-aws", tmp_path / "configuration"
    workdir.mkdir()
    (workdir / "terraform.tfstate").write_text("{}")
    embedded.start(state_dir)
    server_pid = int((state_dir / "pid").read_text())
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no terraform on it

    assert pump.down(workdir, state_dir) == 0

    assert "terraform destroy could not run" in capsys.readouterr().err
    assert not embedded._alive(server_pid), "the endpoint outlived make down"
    assert not (workdir / "terraform.tfstate").exists()
