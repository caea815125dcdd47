"""Each Terraform module's README lists exactly its inputs and outputs, as the code has them.

Given a module of terraform/modules/, when its README's `## Inputs` and `## Outputs` tables
are read, then they name the variables of variables.tf and the outputs of outputs.tf, no
more and no fewer; each input's type is the declared one, and an object input names each of
its attributes. The storage README's description of the state table's index is checked
against table.tf too (it once drifted). HCL is read with python-hcl2, no Terraform run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(path for path in (ROOT / "terraform" / "modules").iterdir() if path.is_dir())
# Without these options python-hcl2 8.x keeps the quotes around strings.
HCL = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


def load_hcl(path: Path) -> dict[str, Any]:
    with path.open() as file:
        return hcl2.load(file, serialization_options=HCL)


def declared(module: Path, kind: str) -> dict[str, dict[str, Any]]:
    """name -> body of every `variable` (variables.tf) or `output` (outputs.tf) block."""
    path = module / ("variables.tf" if kind == "variable" else "outputs.tf")
    return {name: body for block in load_hcl(path).get(kind, []) for name, body in block.items()}


def readme_table(module: Path, section: str) -> dict[str, list[str]]:
    """First-column name -> the row's cells, from the table under `## <section>`."""
    text = (module / "README.md").read_text()
    match = re.search(rf"^## {section}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{module.name}/README.md has no '## {section}' section"
    rows: dict[str, list[str]] = {}
    for line in match.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if name := re.fullmatch(r"`(\w+)`", cells[0]):
            assert name.group(1) not in rows, f"{module.name}: {name.group(1)} listed twice"
            rows[name.group(1)] = cells
    return rows


def type_expression(body: dict[str, Any]) -> str:
    return re.sub(r"^\$\{(.*)\}$", r"\1", str(body["type"]))


def type_head(expression: str) -> str:
    """map(object({a = string})) -> map(object): what a README's type column says."""
    return re.sub(r"\(\{.*\}\)", "", expression)


def object_attributes(expression: str) -> list[str]:
    """Top-level attribute names of an object({...}) type, or of map(object({...}))."""
    start = expression.find("({")
    if start < 0:
        return []
    names, depth, token = [], 0, ""
    for char in expression[start + 2 :]:
        if char in "({[":
            depth += 1
        elif char in ")}]":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            names.append(token)
            token = ""
            continue
        token += char
    names.append(token)
    return [part.split("=", 1)[0].strip() for part in names if "=" in part]


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_readme_lists_exactly_the_modules_inputs_with_their_types(module: Path) -> None:
    variables, rows = declared(module, "variable"), readme_table(module, "Inputs")
    assert sorted(rows) == sorted(variables), (
        f"{module.name}/README.md Inputs: missing {sorted(set(variables) - set(rows))}, "
        f"not in variables.tf {sorted(set(rows) - set(variables))}"
    )
    for name, body in variables.items():
        cells = rows[name]
        expression = type_expression(body)
        assert cells[1].strip("`") == type_head(expression), (
            f"{module.name}: {name} is {type_head(expression)}, README says {cells[1]}"
        )
        described = " ".join(cells[2:])
        missing = [a for a in object_attributes(expression) if f"`{a}`" not in described]
        assert not missing, f"{module.name}: README row of {name} does not name {missing}"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_readme_lists_exactly_the_modules_outputs(module: Path) -> None:
    outputs, rows = declared(module, "output"), readme_table(module, "Outputs")
    assert sorted(rows) == sorted(outputs), (
        f"{module.name}/README.md Outputs: missing {sorted(set(outputs) - set(rows))}, "
        f"not in outputs.tf {sorted(set(rows) - set(outputs))}"
    )


def test_storage_readme_describes_the_indexes_the_table_has() -> None:
    storage = ROOT / "terraform" / "modules" / "storage"
    (table,) = load_hcl(storage / "table.tf")["resource"][0]["aws_dynamodb_table"].values()
    readme = (storage / "README.md").read_text()
    locals_ = load_hcl(storage / "table.tf")["locals"][0]
    for index in table["global_secondary_index"]:
        name = index["name"].removeprefix("${local.").removesuffix("}")
        name = locals_.get(name, name)
        match = re.search(rf"GSI `{name}` \(([^)]*)\)", readme)
        assert match, f"storage/README.md does not describe the {name} index"
        expected = (
            f"hash `{index['hash_key']}`, range `{index['range_key']}`, {index['projection_type']} "
            + ", ".join(f"`{attribute}`" for attribute in index["non_key_attributes"])
        )
        assert match.group(1) == expected
