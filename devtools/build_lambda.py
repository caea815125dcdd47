"""Build the one Lambda zip every camblur function runs from, reproducibly.

    python -m devtools.build_lambda --arch arm64 --python 3.13 --output dist/camblur-lambda.zip

Runtime dependencies come from pyproject.toml as wheels for the Lambda platform (Amazon Linux
2023, glibc 2.34: manylinux_2_28 wheels fit, and Pillow 13 ships only those). boto3 is left
out: every Lambda Python runtime provides it. Entries are sorted and dated 1980-01-01 with
fixed permissions, so the same sources give the same zip, byte for byte, and Terraform's
source_code_hash changes only when the code does.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from devtools import plate_model

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lambdas" / "camblur"
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = frozenset({"__pycache__"})


def runtime_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        requirement
        for requirement in project["dependencies"]
        if _name(requirement) not in PROVIDED_BY_RUNTIME
    ]


def _name(requirement: str) -> str:
    for separator in "=<>!~[; ":
        requirement = requirement.split(separator, 1)[0]
    return requirement.strip().lower()


def install_dependencies(target: Path, arch: str, python: str) -> None:
    machine = MACHINE[arch]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--target", str(target),
        "--platform", f"manylinux_2_28_{machine}",
        "--platform", f"manylinux2014_{machine}",
        "--implementation", "cp",
        "--python-version", python,
        "--only-binary=:all:",
        *runtime_requirements(),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def packaged(path: Path, source: Path) -> bool:
    """Whether a staged file belongs in the zip: not bytecode, and not the console scripts in
    bin/, whose shebang names this venv's interpreter (useless in Lambda, and it would make
    the zip depend on the folder it was built in)."""
    parts = path.relative_to(source).parts
    return (
        path.is_file()
        and path.suffix != ".pyc"
        and not SKIPPED_PARTS.intersection(parts)
        and parts[0] != "bin"
    )


def contents(path: Path) -> bytes:
    """A file's bytes as zipped: a dist-info RECORD loses the lines of the scripts left out."""
    data = path.read_bytes()
    if path.name == "RECORD" and path.parent.name.endswith(".dist-info"):
        lines = data.decode().splitlines(keepends=True)
        data = "".join(line for line in lines if not line.startswith("bin/")).encode()
    return data


def write_zip(source: Path, output: Path) -> None:
    files = sorted(path for path in source.rglob("*") if packaged(path, source))
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            entry.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, contents(path), compresslevel=9)


def build(arch: str, python: str, output: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="camblur-build-") as staging_dir:
        staging = Path(staging_dir)
        install_dependencies(staging, arch, python)
        shutil.copytree(PACKAGE, staging / "camblur", ignore=shutil.ignore_patterns("__pycache__"))
        plate_model.install(staging / "camblur")  # the text detector's model (packaged_ocr)
        write_zip(staging, output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(MACHINE), default="arm64")
    parser.add_argument("--python", default="3.13", help="Lambda runtime's Python, e.g. 3.13")
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "camblur-lambda.zip")
    args = parser.parse_args()
    digest = build(args.arch, args.python, args.output)
    size_mb = args.output.stat().st_size / 1e6
    print(
        f"built {args.output} ({size_mb:.1f} MB, {args.arch}, python{args.python}) sha256 {digest}"
    )


if __name__ == "__main__":
    main()
