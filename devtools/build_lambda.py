"""Build the one Lambda zip every camblur function runs from, reproducibly.

    python -m devtools.build_lambda --arch arm64 --python 3.13 --output dist/camblur-lambda.zip
    python -m devtools.build_lambda --lock      # refresh requirements/lambda.txt (online)

Dependencies come from requirements/lambda.txt, a lock with hashes resolved for the Lambda
platform (Amazon Linux 2023, glibc 2.34: manylinux_2_28 wheels fit, and Pillow 13 ships only
those), so a build next month installs the same files as today's. boto3 is left out: the
functions use the runtime's copy (see pyproject.toml). Every module is compiled for the
functions' Python with hash-based bytecode that Python trusts without checking the source
(unchecked-hash: /var/task never changes under a running function), which takes about 40 % off
importing the handler at cold start. Entries are sorted and dated 1980-01-01 with fixed
permissions, so the same sources give the same zip, byte for byte, and Terraform's
source_code_hash changes only when the code does.
"""

from __future__ import annotations

import argparse
import hashlib
import os
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
LOCK = ROOT / "requirements" / "lambda.txt"
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
TASK_ROOT = "/var/task"  # where Lambda unpacks the zip: the path tracebacks show
BYTECODE_PARTS = frozenset({"__pycache__"})


class BuildError(Exception):
    """The build cannot go on; the message says what to do."""


def runtime_requirements() -> list[str]:
    """pyproject's runtime dependencies that the zip carries: the input of the lock."""
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


def resolve(arch: str, python: str, output: Path, upgrade: bool = False) -> None:
    """Resolve runtime_requirements() for one Lambda platform into a lock with hashes (uv).

    Like the build, wheels only. The lock holds the hashes of every wheel of each pinned version,
    so one file serves both architectures."""
    command = [
        str(Path(sys.executable).parent / "uv"), "pip", "compile", "-",
        "--python-platform", f"{MACHINE[arch]}-manylinux_2_28",
        "--python-version", python,
        "--only-binary", ":all:",
        "--generate-hashes", "--quiet",
        "--custom-compile-command", "make lock",
        "--output-file", str(output),
        *(["--upgrade"] if upgrade else []),
    ]  # fmt: skip
    subprocess.run(command, input="\n".join(runtime_requirements()), text=True, check=True)


def lock(python: str, upgrade: bool = False) -> None:
    """Refresh LOCK, and check that the other architecture resolves to the same pins."""
    LOCK.parent.mkdir(exist_ok=True)
    resolve("arm64", python, LOCK, upgrade)
    with tempfile.TemporaryDirectory(prefix="camblur-lock-") as scratch:
        other = Path(scratch) / LOCK.name
        shutil.copyfile(LOCK, other)  # the same preferences, so only the platform differs
        resolve("x86_64", python, other)
        if other.read_text() != LOCK.read_text():
            raise BuildError(
                f"{LOCK.relative_to(ROOT)} resolves differently for x86_64 than for arm64; "
                "one lock per architecture would be needed"
            )


def install_dependencies(target: Path, arch: str, python: str) -> None:
    """Exactly the files the lock names (pip checks each wheel's hash), for the Lambda platform."""
    if not LOCK.is_file():
        raise BuildError(f"{LOCK.relative_to(ROOT)} is missing: run make lock")
    machine = MACHINE[arch]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile",
        "--target", str(target),
        "--platform", f"manylinux_2_28_{machine}",
        "--platform", f"manylinux2014_{machine}",
        "--implementation", "cp",
        "--python-version", python,
        "--only-binary=:all:",
        "--require-hashes", "--no-deps",
        "--requirement", str(LOCK),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def find_interpreter(python: str, explicit: str | None = None) -> Path:
    """The functions' Python on this machine: `explicit` (LAMBDA_PYTHON_BIN), else python3.13 on
    PATH, else a pyenv or uv installation. Each candidate must report the right version."""
    if explicit:
        candidates = [explicit]
    else:
        candidates = [shutil.which(f"python{python}") or ""]
        pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        candidates += sorted(
            (str(path) for path in pyenv_root.glob(f"versions/{python}.*/bin/python{python}")),
            reverse=True,
        )
        uv = Path(sys.executable).parent / "uv"
        if uv.is_file():
            found = subprocess.run(
                [str(uv), "python", "find", "--no-project", python],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            candidates.append(found.stdout.strip() if found.returncode == 0 else "")
    for candidate in filter(None, candidates):
        version = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if version.returncode == 0 and version.stdout.strip() == python:
            return Path(candidate)
        if explicit:
            raise BuildError(f"LAMBDA_PYTHON_BIN={explicit} is not a working Python {python}")
    raise BuildError(
        f"no Python {python} found to compile the functions' bytecode (looked for "
        f"python{python} on PATH, in pyenv and in uv). Install it (pyenv install {python}, or "
        f"uv python install {python}) or set LAMBDA_PYTHON_BIN to its path. "
        "`make build LAMBDA_BYTECODE=0` builds without bytecode: slower cold starts, and a "
        "zip that differs from one built with it."
    )


def compile_bytecode(staging: Path, interpreter: Path) -> None:
    """Compile every module for the functions' Python, the same bytes wherever it runs: the
    source hash instead of its mtime, /var/task instead of this folder, one worker in sorted
    order, and a fixed hash seed (older Pythons marshal frozenset constants in hash order)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    command = [
        str(interpreter), "-m", "compileall", "-q",
        "--invalidation-mode", "unchecked-hash",
        "-d", TASK_ROOT,
        str(staging),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)


def remove_bytecode(staging: Path) -> None:
    """Bytecode left by whoever staged the files (another Python, stale sources) never ships."""
    for folder in sorted(staging.rglob("__pycache__"), reverse=True):
        shutil.rmtree(folder)
    for stray in staging.rglob("*.py[co]"):
        stray.unlink()


def packaged(path: Path, source: Path) -> bool:
    """Whether a staged file belongs in the zip: not the console scripts in bin/, whose shebang
    names this venv's interpreter (useless in Lambda, and it would make the zip depend on the
    folder it was built in)."""
    parts = path.relative_to(source).parts
    return path.is_file() and parts[0] != "bin"


def contents(path: Path) -> bytes:
    """A file's bytes as zipped: a dist-info RECORD loses the lines of the scripts left out
    (pip writes them as bin/... or ../../bin/..., depending on its version)."""
    data = path.read_bytes()
    if path.name == "RECORD" and path.parent.name.endswith(".dist-info"):
        lines = data.decode().splitlines(keepends=True)
        data = "".join(line for line in lines if not _outside_task_root(line)).encode()
    return data


def _outside_task_root(record_line: str) -> bool:
    return record_line.startswith(("bin/", "../"))


def write_zip(source: Path, output: Path) -> None:
    files = sorted(path for path in source.rglob("*") if packaged(path, source))
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            entry.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, contents(path), compresslevel=9)


def package(staging: Path, output: Path, interpreter: Path | None) -> None:
    """Zip a staged task root, with bytecode for `interpreter` (none when it is None)."""
    remove_bytecode(staging)
    if interpreter is not None:
        compile_bytecode(staging, interpreter)
    write_zip(staging, output)


def build(arch: str, python: str, output: Path, interpreter: Path | None) -> str:
    with tempfile.TemporaryDirectory(prefix="camblur-build-") as staging_dir:
        staging = Path(staging_dir)
        install_dependencies(staging, arch, python)
        shutil.copytree(PACKAGE, staging / "camblur", ignore=shutil.ignore_patterns("__pycache__"))
        plate_model.install(staging / "camblur")  # the text detector's model (packaged_ocr)
        package(staging, output, interpreter)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(MACHINE), default="arm64")
    parser.add_argument("--python", default="3.13", help="Lambda runtime's Python, e.g. 3.13")
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "camblur-lambda.zip")
    parser.add_argument(
        "--interpreter",
        default=os.environ.get("LAMBDA_PYTHON_BIN") or None,
        help="path of that Python, to compile bytecode (default: LAMBDA_PYTHON_BIN, PATH, pyenv, uv)",
    )
    parser.add_argument("--no-bytecode", action="store_true", help="leave bytecode out")
    parser.add_argument("--lock", action="store_true", help=f"refresh {LOCK.name} and exit")
    parser.add_argument("--upgrade", action="store_true", help="with --lock: newest versions")
    args = parser.parse_args()
    try:
        if args.lock:
            lock(args.python, args.upgrade)
            print(f"locked {LOCK.relative_to(ROOT)} for python{args.python}, arm64 and x86_64")
            return
        interpreter = None if args.no_bytecode else find_interpreter(args.python, args.interpreter)
        digest = build(args.arch, args.python, args.output, interpreter)
    except BuildError as error:
        sys.exit(f"build_lambda: {error}")
    size_mb = args.output.stat().st_size / 1e6
    bytecode = f"bytecode by {interpreter}" if interpreter else "NO bytecode"
    print(
        f"built {args.output} ({size_mb:.1f} MB, {args.arch}, python{args.python}, {bytecode}) "
        f"sha256 {digest}"
    )


if __name__ == "__main__":
    main()
