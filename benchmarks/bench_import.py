"""Cold-start import of the live handler from the unzipped Lambda zip, with and without bytecode.

    make bench-import     (or: .venv/bin/python benchmarks/bench_import.py)

Builds an x86_64 variant of the zip (the arm64 one's Pillow does not load here), unzips it twice
(as built, and with its bytecode removed, as the zip was before it carried any), and times
`import camblur.handlers.live` with the functions' Python (`-X importtime`, the cumulative figure
of that module, and the CPU time of the import, which load from other processes hardly
changes) in fresh processes, both variants once per round, medians over ROUNDS rounds. Bytecode
is never written, as in Lambda's read-only /var/task. boto3 comes from a stand-in for the runtime's copy: the version
requirements/dev.txt pins, installed once under build/ with its bytecode, as the runtime has it.
Last line: `import camblur.handlers.live: <with> ms with bytecode, <without> ms without`.
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.build_lambda import ROOT, BuildError, build, find_interpreter, remove_bytecode

PYTHON = "3.13"
ROUNDS = 15
MODULE = "camblur.handlers.live"


def runtime_boto3(interpreter: Path) -> Path:
    """A folder holding the boto3 the tests pin, as the Lambda runtime would provide it."""
    pin = re.search(r"^boto3==(\S+)", (ROOT / "requirements" / "dev.txt").read_text(), re.M)
    assert pin, "requirements/dev.txt pins no boto3"
    folder = ROOT / "build" / f"bench-import-boto3-{pin[1]}-py{PYTHON}"
    if not folder.is_dir():
        command = [str(interpreter), "-m", "pip", "install", "--quiet", "--target", str(folder)]
        subprocess.run([*command, f"boto3=={pin[1]}"], check=True)
    return folder


def import_ms(interpreter: Path, task_root: Path, runtime: Path) -> tuple[float, float]:
    """Milliseconds one fresh process spends importing MODULE: wall clock (its cumulative
    importtime) and CPU time (which load from other processes hardly changes)."""
    env = {
        "PYTHONPATH": f"{task_root}:{runtime}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    code = f"import time; t = time.process_time(); import {MODULE}; print(time.process_time() - t)"
    command = [str(interpreter), "-X", "importtime", "-c", code]
    run = subprocess.run(command, cwd=task_root, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"importing {MODULE} from {task_root} failed:\n{run.stderr[-2000:]}")
    line = next(ln for ln in run.stderr.splitlines() if ln.endswith(f"| {MODULE}"))
    return int(line.split("|")[1]) / 1000, float(run.stdout) * 1000


def measure(
    interpreter: Path, roots: dict[str, Path], runtime: Path
) -> dict[str, list[tuple[float, float]]]:
    """Each variant once per round, in random order, so that load on a shared machine falls on
    both alike; the first round only warms the page cache."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in roots}
    for round_ in range(ROUNDS + 1):
        for name in random.sample(list(roots), len(roots)):
            took = import_ms(interpreter, roots[name], runtime)
            if round_:
                times[name].append(took)
    return times


def main() -> None:
    try:
        interpreter = find_interpreter(PYTHON)
    except BuildError as error:
        raise SystemExit(f"bench_import: {error}") from error
    runtime = runtime_boto3(interpreter)
    with tempfile.TemporaryDirectory(prefix="camblur-bench-import-") as scratch:
        work = Path(scratch)
        build("x86_64", PYTHON, work / "lambda.zip", interpreter)
        with_bytecode, without = work / "with", work / "without"
        zipfile.ZipFile(work / "lambda.zip").extractall(with_bytecode)
        shutil.copytree(with_bytecode, without)
        remove_bytecode(without)
        times = measure(interpreter, {"with": with_bytecode, "without": without}, runtime)
    wall = {name: [took[0] for took in figures] for name, figures in times.items()}
    cpu = {name: [took[1] for took in figures] for name, figures in times.items()}
    print(f"functions' Python: {interpreter}, {ROUNDS} rounds")
    for name in times:
        print(
            f"  {name + ' bytecode:':<18} wall median {statistics.median(wall[name]):6.0f} ms, "
            f"min {min(wall[name]):6.0f} ms; CPU median {statistics.median(cpu[name]):6.0f} ms"
        )
    fast, slow = (statistics.median(wall[name]) for name in ("with", "without"))
    print(f"import {MODULE}: {fast:.0f} ms with bytecode, {slow:.0f} ms without")


if __name__ == "__main__":
    main()
