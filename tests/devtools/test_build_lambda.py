"""The Lambda zip is reproducible: the same sources give the same bytes, wherever they are built."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from devtools.build_lambda import runtime_requirements, write_zip


def stage(root: Path, interpreter: str, mtime: int) -> Path:
    """A staging folder as pip --target leaves it, built by `interpreter` at time `mtime`."""
    files = {
        "camblur/__init__.py": "",
        "camblur/core/blur.py": "X = 1\n",
        "camblur/__pycache__/blur.cpython-313.pyc": "bytecode",
        "PIL/_imaging.so": "binary",
        "bin/jp.py": f"#!{interpreter}\nimport jmespath\n",
        "jmespath-1.1.0.dist-info/RECORD": (
            f"jmespath/__init__.py,sha256=abc,10\nbin/jp.py,sha256={interpreter},10\n"
        ),
        "jmespath-1.1.0.dist-info/METADATA": "Name: jmespath\nVersion: 1.1.0\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (mtime, mtime))
    return root


def test_two_checkouts_built_at_different_times_give_the_same_zip(tmp_path: Path) -> None:
    # Given the same sources staged in two places, by two venvs, a day apart
    first = stage(tmp_path / "a", "/home/alice/camblur/.venv/bin/python", 1_700_000_000)
    second = stage(tmp_path / "b", "/ci/build/.venv/bin/python", 1_700_086_400)
    # When each is zipped
    write_zip(first, tmp_path / "a.zip")
    write_zip(second, tmp_path / "b.zip")
    # Then the zips are identical, byte for byte
    digest = [hashlib.sha256((tmp_path / z).read_bytes()).hexdigest() for z in ("a.zip", "b.zip")]
    assert digest[0] == digest[1]
    # And they hold the code and dependencies, with no bytecode or console scripts
    archive = zipfile.ZipFile(tmp_path / "a.zip")
    names = archive.namelist()
    assert names == sorted(names)
    assert "camblur/core/blur.py" in names and "PIL/_imaging.so" in names
    assert not [name for name in names if name.endswith(".pyc") or name.startswith("bin/")]
    # And each RECORD still lists what its distribution installed, minus the scripts left out
    record = archive.read("jmespath-1.1.0.dist-info/RECORD").decode()
    assert record == "jmespath/__init__.py,sha256=abc,10\n"


def test_boto3_is_left_to_the_lambda_runtime() -> None:
    requirements = runtime_requirements()
    assert any(requirement.startswith("pillow==") for requirement in requirements)
    assert not [requirement for requirement in requirements if requirement.startswith("boto")]
