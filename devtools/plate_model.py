"""Put the packaged text detector's model into a staged Lambda package (or a dev checkout).

    python -m devtools.plate_model            # into lambdas/camblur/plates/models/ (dev, tests)

The model comes out of the rapidocr-onnxruntime wheel, fetched from PyPI by pip at build time
(--no-deps: rapidocr's opencv-python stays out) and cached under build/. Both the wheel and
the extracted model are checked against pinned sha256 sums, so a changed upload fails the build.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from camblur.plates import model

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "plate-model"


class ModelMismatch(RuntimeError):  # noqa: N818 - names the situation
    """A downloaded wheel or model whose sha256 is not the pinned one."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel(cache: Path = CACHE) -> Path:
    """The pinned rapidocr wheel, downloaded once into `cache` and checked."""
    path = cache / model.WHEEL_NAME
    if not path.is_file():
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--dest", str(cache), model.WHEEL_REQUIREMENT,
        ]  # fmt: skip
        subprocess.run(command, check=True)
    digest = _sha256(path.read_bytes())
    if digest != model.WHEEL_SHA256:
        raise ModelMismatch(f"{path.name}: sha256 {digest}, expected {model.WHEEL_SHA256}")
    return path


def model_bytes(cache: Path = CACHE) -> bytes:
    with zipfile.ZipFile(wheel(cache)) as archive:
        data = archive.read(model.WHEEL_MEMBER)
    digest = _sha256(data)
    if digest != model.MODEL_SHA256:
        raise ModelMismatch(f"{model.MODEL_NAME}: sha256 {digest}, expected {model.MODEL_SHA256}")
    return data


def install(package_dir: Path, cache: Path = CACHE) -> Path:
    """Write the model where camblur.plates.model expects it, under a (staged) camblur package."""
    target = package_dir / model.MODEL_PATH.relative_to(model.MODEL_PATH.parents[2])
    if target.is_file() and _sha256(target.read_bytes()) == model.MODEL_SHA256:
        return target
    data = model_bytes(cache)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def main() -> None:
    print(f"model at {install(ROOT / 'lambdas' / 'camblur')}")


if __name__ == "__main__":
    main()
