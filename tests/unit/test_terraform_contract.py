"""The contract between Terraform and the code: handlers, environment variables, runtime.

Terraform's side is read from the HCL itself (python-hcl2), no Terraform run: the pipeline
module keeps each function's handler and environment in literal `locals`. The code's side is
`camblur.config.ENVIRONMENT_BY_HANDLER`; the documentation's side is docs/architecture.md.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "terraform" / "modules" / "pipeline" / "main.tf"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
POWERTOOLS = frozenset(
    {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
)
HCL = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)

# Words docs/architecture.md uses in its environment table, as Terraform's function keys.
DOC_FUNCTIONS = {
    "live": {"live_blur"},
    "schedule": {"refine_schedule"},
    "worker": {"refine_worker"},
    "reconciler": {"model_reconciler"},
    "counts": {"status_counts"},
    "all": {"live_blur", "refine_schedule", "refine_worker", "model_reconciler", "status_counts"},
    "all but reconciler": {"live_blur", "refine_schedule", "refine_worker"},
}


def load_hcl(path: Path) -> dict[str, Any]:
    with path.open() as file:
        return hcl2.load(file, serialization_options=HCL)


def _function_specs(value: Any, key: str | None = None) -> dict[str, dict[str, Any]]:
    """Every {handler, environment} map under the pipeline's locals, by its key."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(value, dict):
        if "handler" in value and "environment" in value:
            found[key or "?"] = value
        else:
            for child_key, child in value.items():
                found.update(_function_specs(child, child_key))
    elif isinstance(value, list):
        for child in value:
            found.update(_function_specs(child, key))
    return found


@cache
def terraform_functions() -> dict[str, tuple[str, frozenset[str]]]:
    """Function key -> (handler path, environment variable names) as Terraform sets them."""
    specs = _function_specs(load_hcl(PIPELINE)["locals"])
    # local.reconciler is the model_reconciler function (kept apart to avoid a cycle).
    if "reconciler" in specs:
        specs["model_reconciler"] = specs.pop("reconciler")
    return {key: (spec["handler"], frozenset(spec["environment"])) for key, spec in specs.items()}


@cache
def documented_handlers() -> dict[str, str]:
    """Function -> handler from the function table of docs/architecture.md."""
    rows = re.findall(
        r"^\| (\w+) \| `(camblur\.handlers\.[\w.]+)` \|", ARCHITECTURE.read_text(), re.M
    )
    return dict(rows)


@cache
def documented_environment() -> dict[str, frozenset[str]]:
    """Function -> variables, from the environment table of docs/architecture.md."""
    table = ARCHITECTURE.read_text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    by_function: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]) if len(cells) >= 3 else []
        if not names:
            continue
        who = set().union(*(DOC_FUNCTIONS[word.strip()] for word in cells[1].split(",")))
        for function in who:
            by_function.setdefault(function, set()).update(names)
    return {function: frozenset(names) for function, names in by_function.items()}


def test_terraform_defines_the_documented_functions_with_their_handlers() -> None:
    assert {key: handler for key, (handler, _) in terraform_functions().items()} == (
        documented_handlers()
    )


@pytest.mark.parametrize("function", sorted(DOC_FUNCTIONS["all"]))
def test_handler_resolves_to_a_callable_in_the_package(function: str) -> None:
    handler, _ = terraform_functions()[function]
    module_name, _, attribute = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        pytest.fail(
            f"Terraform's {function} handler {handler}: module {module_name} missing ({error})"
        )
    assert callable(getattr(module, attribute, None)), f"{handler} is not a callable"


@pytest.mark.parametrize("function", sorted(DOC_FUNCTIONS["all"]))
def test_terraform_sets_exactly_the_variables_the_code_reads(function: str) -> None:
    from camblur.config import ENVIRONMENT_BY_HANDLER

    handler, terraform_sets = terraform_functions()[function]
    if handler not in ENVIRONMENT_BY_HANDLER:
        pytest.fail(f"camblur.config.ENVIRONMENT_BY_HANDLER has no entry for {handler}")
    code_reads = ENVIRONMENT_BY_HANDLER[handler] - POWERTOOLS

    assert terraform_sets >= POWERTOOLS, "Powertools needs its three variables"
    missing, unused = code_reads - terraform_sets, (terraform_sets - POWERTOOLS) - code_reads
    assert not missing and not unused, (
        f"{function}: Terraform does not set {sorted(missing)}; sets unread {sorted(unused)}"
    )


@pytest.mark.parametrize("function", sorted(DOC_FUNCTIONS["all"]))
def test_terraform_sets_the_documented_variables(function: str) -> None:
    _, terraform_sets = terraform_functions()[function]
    documented = documented_environment()[function]
    assert terraform_sets == documented, (
        f"{function}: docs/architecture.md's environment table lacks "
        f"{sorted(terraform_sets - documented)} and lists {sorted(documented - terraform_sets)} "
        "that Terraform does not set"
    )


def _variable_default(path: Path, name: str) -> Any:
    for block in load_hcl(path)["variable"]:
        if name in block:
            return block[name]["default"]
    raise AssertionError(f"{path.relative_to(ROOT)} has no variable {name}")


def _makefile_default(name: str) -> str:
    match = re.search(rf"^{name}\s*\?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, f"Makefile has no `{name} ?=` default"
    return match.group(1)


def test_makefile_builds_the_zip_for_terraforms_runtime_and_architecture() -> None:
    arch, python = _makefile_default("LAMBDA_ARCH"), _makefile_default("LAMBDA_PYTHON")
    variables = ROOT / "terraform" / "variables.tf"
    assert _variable_default(variables, "lambda_architecture") == arch
    assert _variable_default(variables, "lambda_runtime") == f"python{python}"


MODULES = sorted((ROOT / "terraform" / "modules").glob("*/variables.tf"))


@pytest.mark.parametrize("variables", MODULES, ids=lambda path: path.parent.name)
def test_settings_have_their_default_and_validation_in_the_stack_only(variables: Path) -> None:
    """A module takes the stack's settings as they are: a default or a check there would be a
    second one that can drift (as custom_label_names' and model_max_run_minutes' once did).
    Modules validate only the names the stack builds for them."""
    for block in load_hcl(variables)["variable"]:
        for name, body in block.items():
            assert "default" not in body or name == "tags", f"{variables.parent.name}.{name}"
            assert "validation" not in body or name.endswith(("name", "names")), (
                f"{variables.parent.name}.{name} validates a setting again"
            )


def test_no_environment_overrides_runtime_or_architecture() -> None:
    """make build has one default; an environment with another would get a zip that fails."""
    for path in sorted((ROOT / "environments").glob("*/*.tf*")):
        if path.suffix in {".tf", ".tfvars"}:
            text = path.read_text()
            assert not re.search(r"^\s*lambda_(runtime|architecture)\s*=", text, re.M), path


class _AnyValue(str):
    """An output value every reader accepts: str() gives a name, dict() an empty map (through
    keys()), .get() the reader's default. So from_outputs reads every name it would read."""

    def keys(self) -> list[str]:  # dict(value) -> {}
        return []

    def get(self, key: str, default: Any = None) -> Any:
        return default


class _RecordingOutputs(dict):
    """`terraform output -json` with every name present; remembers which ones were read."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return {"value": _AnyValue(f"some-{name}")}


ENVIRONMENTS = sorted(path.parent for path in (ROOT / "environments").glob("*/main.tf"))


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda path: path.name)
def test_every_environment_outputs_what_the_camblur_command_reads(environment: Path) -> None:
    """`camblur --env prod` reads environments/prod's outputs: each name the command reads must
    be there (dev and prod once lacked state_table, and every command failed on them)."""
    from camblur_cli.deployment import Deployment

    outputs = _RecordingOutputs()
    Deployment.from_outputs(outputs)
    defined = {
        name
        for path in sorted(environment.glob("*.tf"))
        for block in load_hcl(path).get("output", [])
        for name in block
    }
    assert outputs.read, "from_outputs read nothing: the recording is broken"
    assert outputs.read <= defined, f"missing outputs: {sorted(outputs.read - defined)}"
