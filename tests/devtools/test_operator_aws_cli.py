"""The aws CLI that README "Operating camblur" and `make up` tell operators to use.

Given the venv `make setup` made (this interpreter's), and an embedded endpoint as `make up`
runs it, when the upload and listing commands are run as `make up` prints them (the venv's
`aws`, the endpoint's fake keys), then the picture is in the bucket: a fresh machine needs no
aws CLI of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from localaws.embedded import embedded_aws

AWS = Path(sys.executable).with_name("aws")


def test_setup_installs_an_aws_cli_that_uploads_to_the_embedded_endpoint(tmp_path: Path) -> None:
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 not really a picture")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),  # not the user's profiles
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }

    def aws(url: str, *args: str) -> str:
        done = subprocess.run(
            [str(AWS), "--endpoint-url", url, *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"aws {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    assert AWS.is_file(), f"make setup installed no aws CLI at {AWS}"
    with embedded_aws() as url:
        aws(url, "s3", "mb", "s3://camblur-cli-check")
        aws(url, "s3", "cp", str(picture), "s3://camblur-cli-check/cameras/cam-1/picture.jpg")
        listing = aws(url, "s3", "ls", "s3://camblur-cli-check/cameras/cam-1/")
    assert "picture.jpg" in listing
