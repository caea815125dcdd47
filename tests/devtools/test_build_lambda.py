"""The Lambda zip is reproducible: the same sources give the same bytes, wherever they are built;
its dependencies come from a lock that matches pyproject.toml; it carries bytecode for the
functions' Python."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from devtools.build_lambda import (
    LOCK,
    ROOT,
    BuildError,
    find_interpreter,
    package,
    runtime_requirements,
    write_zip,
)

FUNCTIONS_PYTHON = "3.13"


def stage(root: Path, interpreter: str, mtime: int) -> Path:
    """A staging folder as pip --target leaves it, built by `interpreter` at time `mtime`."""
    files = {
        "camblur/__init__.py": "",
        "camblur/core/blur.py": "def named(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta'}\n",
        "camblur/__pycache__/blur.cpython-311.pyc": "stale bytecode of the host's Python",
        "PIL/_imaging.so": "binary",
        "bin/jp.py": f"#!{interpreter}\nimport jmespath\n",
        "jmespath-1.1.0.dist-info/RECORD": (
            f"jmespath/__init__.py,sha256=abc,10\nbin/jp.py,sha256={interpreter},10\n"
            f"../../bin/jp.py,sha256={interpreter},10\n"  # how pip 23 writes it
        ),
        "jmespath-1.1.0.dist-info/METADATA": "Name: jmespath\nVersion: 1.1.0\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (mtime, mtime))
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_checkouts_built_at_different_times_give_the_same_zip(tmp_path: Path) -> None:
    # Given the same sources staged in two places, by two venvs, a day apart
    first = stage(tmp_path / "a", "/home/alice/camblur/.venv/bin/python", 1_700_000_000)
    second = stage(tmp_path / "b", "/ci/build/.venv/bin/python", 1_700_086_400)
    # When each is packaged without bytecode
    package(first, tmp_path / "a.zip", interpreter=None)
    package(second, tmp_path / "b.zip", interpreter=None)
    # Then the zips are identical, byte for byte
    assert sha256(tmp_path / "a.zip") == sha256(tmp_path / "b.zip")
    # And they hold the code and dependencies, with no stale bytecode or console scripts
    archive = zipfile.ZipFile(tmp_path / "a.zip")
    names = archive.namelist()
    assert names == sorted(names)
    assert "camblur/core/blur.py" in names and "PIL/_imaging.so" in names
    assert not [name for name in names if name.endswith(".pyc") or name.startswith("bin/")]
    # And each RECORD still lists what its distribution installed, minus the scripts left out
    record = archive.read("jmespath-1.1.0.dist-info/RECORD").decode()
    assert record == "jmespath/__init__.py,sha256=abc,10\n"


def test_write_zip_keeps_entries_sorted_with_fixed_dates(tmp_path: Path) -> None:
    staged = stage(tmp_path / "a", "/x/python", 1_700_000_000)
    write_zip(staged, tmp_path / "a.zip")
    entries = zipfile.ZipFile(tmp_path / "a.zip").infolist()
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert [e.filename for e in entries] == sorted(e.filename for e in entries)


@pytest.fixture(scope="module")
def functions_python() -> Path:
    try:
        return find_interpreter(FUNCTIONS_PYTHON, os.environ.get("LAMBDA_PYTHON_BIN") or None)
    except BuildError as error:
        pytest.skip(str(error))


def test_the_zip_carries_the_same_bytecode_from_two_checkouts(
    tmp_path: Path, functions_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same sources staged in two places a day apart, packaged under two hash seeds
    first = stage(tmp_path / "alice", "/home/alice/camblur/.venv/bin/python", 1_700_000_000)
    second = stage(tmp_path / "ci", "/ci/build/.venv/bin/python", 1_700_086_400)
    monkeypatch.setenv("PYTHONHASHSEED", "1")
    package(first, tmp_path / "a.zip", functions_python)
    monkeypatch.setenv("PYTHONHASHSEED", "2")
    package(second, tmp_path / "b.zip", functions_python)
    # Then the zips are identical, byte for byte
    assert sha256(tmp_path / "a.zip") == sha256(tmp_path / "b.zip")
    archive = zipfile.ZipFile(tmp_path / "a.zip")
    names = archive.namelist()
    # And every module has bytecode for the functions' Python, and none for another
    tag = f"cpython-{FUNCTIONS_PYTHON.replace('.', '')}"
    assert f"camblur/core/__pycache__/blur.{tag}.pyc" in names
    assert f"camblur/__pycache__/__init__.{tag}.pyc" in names
    assert not [name for name in names if name.endswith(".pyc") and tag not in name]
    # And it is hash-based and unchecked (PEP 552 flags = 0b01): Python trusts it as shipped
    bytecode = archive.read(f"camblur/core/__pycache__/blur.{tag}.pyc")
    assert int.from_bytes(bytecode[4:8], "little") == 0b01
    # And tracebacks name Lambda's task root, never the folder it was built in
    assert b"/var/task/camblur/core/blur.py" in bytecode
    assert not [name for name in names if str(tmp_path).encode() in archive.read(name)]


def test_a_python_of_the_wrong_version_is_refused_by_name() -> None:
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    if host == FUNCTIONS_PYTHON:
        pytest.skip("the host runs the functions' Python")
    with pytest.raises(BuildError, match=f"LAMBDA_PYTHON_BIN={re.escape(sys.executable)}"):
        find_interpreter(FUNCTIONS_PYTHON, sys.executable)


def test_boto3_is_left_to_the_lambda_runtime() -> None:
    requirements = runtime_requirements()
    assert any(requirement.startswith("pillow==") for requirement in requirements)
    assert not [requirement for requirement in requirements if requirement.startswith("boto")]
    assert not re.search(r"^boto", LOCK.read_text(), re.MULTILINE)


def pins(lock: Path) -> dict[str, str]:
    """name -> pinned version (of any marker branch) in a lock written by `make lock`."""
    found: dict[str, str] = {}
    for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.M):
        found.setdefault(name.lower().replace("_", "-"), version)
    return found


def assert_locked(requirements: list[str], lock: Path) -> None:
    locked = pins(lock)
    for line in requirements:
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, f"{name} is missing from {lock.name}: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock.name} pins {name}=={locked[name]}, pyproject asks {line}: run make lock"
        )
    # Every pin carries hashes, so pip refuses any other file
    text = lock.read_text()
    assert text.count("==") <= text.count("--hash=sha256:")


def test_the_lambda_lock_pins_what_pyproject_asks() -> None:
    assert_locked(runtime_requirements(), LOCK)


def test_the_dev_lock_pins_what_pyproject_asks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert_locked(wanted, ROOT / "requirements" / "dev.txt")
