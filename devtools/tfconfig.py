"""Read an environment's Terraform settings with python-hcl2, the way Terraform resolves them.

A stack variable's value is, in Terraform's order: the argument environments/<env>/main.tf
passes to the stack module; when that argument is `var.<name>`, the root variable's value from
environments/<env>/terraform.tfvars or else its default in environments/<env>/variables.tf;
with no argument, the stack's default in terraform/variables.tf. Other expressions are not
evaluated here (`Unresolved`): Terraform itself would be needed for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STACK_VARIABLES = ROOT / "terraform" / "variables.tf"
ENVIRONMENTS = ROOT / "environments"
# python-hcl2 renders an expression argument as an interpolation string: "${var.name}".
_VARIABLE_REFERENCE = re.compile(r"\$\{var\.(\w+)\}")


class ConfigError(Exception):
    """The environment does not exist or its files cannot be read."""


@dataclass(frozen=True)
class Setting:
    """A value and where it came from."""

    value: Any
    source: str  # the file it came from, as the output shows it


@dataclass(frozen=True)
class Unresolved:
    """An argument that is an expression other than `var.<name>`."""

    expression: str
    source: str


def load_hcl(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    # Without these options python-hcl2 8 keeps the quotes of every string and wraps blocks.
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    with path.open() as file:
        return hcl2.load(file, serialization_options=options)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def environment_dir(env: str, target: str, environments: Path = ENVIRONMENTS) -> Path:
    """environments/<env>, or a ConfigError that lists the valid names."""
    known = sorted(p.name for p in environments.iterdir() if p.is_dir())
    if not env:
        raise ConfigError(
            f"ENV is not set: use ENV=<{'|'.join(known)}>, e.g. make {target} ENV=dev"
        )
    path = environments / env
    if not path.is_dir():
        raise ConfigError(f"ENV={env}: environments/{env} does not exist. Valid: {' '.join(known)}")
    return path


def variables(path: Path) -> dict[str, dict[str, Any]]:
    """name -> body of every `variable` block of a .tf file."""
    return {
        name: body for block in load_hcl(path).get("variable", []) for name, body in block.items()
    }


def stack_arguments(main_tf: Path) -> dict[str, Any]:
    """What an environment's main.tf passes to the stack (the module whose source is ../../terraform)."""
    arguments: dict[str, Any] = {}
    for block in load_hcl(main_tf).get("module", []):
        for body in block.values():
            if str(body.get("source", "")).rstrip("/").endswith("terraform"):
                arguments.update(body)
    return arguments


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out what python-hcl2 adds beside the values (`__comments__`)."""
    return {name: value for name, value in data.items() if not name.startswith("__")}


@dataclass(frozen=True)
class Environment:
    """One environment's configuration files, read once."""

    name: str
    stack_variables: dict[str, dict[str, Any]]
    arguments: dict[str, Any]
    tfvars: dict[str, Any]
    root_variables: dict[str, dict[str, Any]]
    files: list[str]

    @classmethod
    def read(cls, env: str, target: str, environments: Path = ENVIRONMENTS) -> Environment:
        path = environment_dir(env, target, environments)
        main_tf, tfvars, variables_tf = (
            path / "main.tf",
            path / "terraform.tfvars",
            path / "variables.tf",
        )
        return cls(
            name=env,
            stack_variables=variables(STACK_VARIABLES),
            arguments=_values(stack_arguments(main_tf)) if main_tf.is_file() else {},
            tfvars=_values(load_hcl(tfvars)) if tfvars.is_file() else {},
            root_variables=variables(variables_tf) if variables_tf.is_file() else {},
            files=[shown(f) for f in (STACK_VARIABLES, main_tf, tfvars) if f.is_file()],
        )

    def stack_setting(self, name: str) -> Setting | Unresolved | None:
        """The value Terraform gives the stack variable `name`; None when it has none."""
        main = f"environments/{self.name}/main.tf"
        if name in self.arguments:
            value = self.arguments[name]
            if not isinstance(value, str) or "${" not in value:
                return Setting(value, main)
            reference = _VARIABLE_REFERENCE.fullmatch(value)
            if reference is None:
                return Unresolved(value, main)
            return self.root_setting(reference.group(1))
        if "default" in self.stack_variables.get(name, {}):
            return Setting(self.stack_variables[name]["default"], "terraform/variables.tf default")
        return None

    def root_setting(self, name: str) -> Setting | None:
        """A root variable: terraform.tfvars, else its default in environments/<env>/variables.tf."""
        if name in self.tfvars:
            return Setting(self.tfvars[name], f"environments/{self.name}/terraform.tfvars")
        if "default" in self.root_variables.get(name, {}):
            return Setting(
                self.root_variables[name]["default"],
                f"environments/{self.name}/variables.tf default",
            )
        return None

    def passed_to_stack(self, root_variable: str) -> bool:
        """Whether main.tf hands the root variable on to the stack as it is."""
        return any(
            isinstance(value, str) and value == f"${{var.{root_variable}}}"
            for value in self.arguments.values()
        )
