"""Every alarm watches a metric that exists, and reaches a person.

An alarm on a metric name nobody emits, or with a dimension the emitter does not add, stays
green for ever. Terraform's side is read from the HCL (python-hcl2, as devtools/tfconfig.py);
the code's side from the source: every `metrics.add_metric(name="...")` in the modules a
function's handler imports (directly or not). Powertools adds one dimension, `service` =
POWERTOOLS_SERVICE_NAME, in the namespace POWERTOOLS_METRICS_NAMESPACE: the alarm must use the
same expressions as the function's environment in modules/pipeline/main.tf.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from devtools.tfconfig import load_hcl
from tests.unit.test_terraform_contract import terraform_functions

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lambdas"
PIPELINE = ROOT / "terraform" / "modules" / "pipeline"
# AWS's own metrics the alarms may watch, with the dimension each takes.
AWS_METRICS = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): "QueueName",
    ("AWS/SQS", "ApproximateAgeOfOldestMessage"): "QueueName",
    ("AWS/Lambda", "Errors"): "FunctionName",
    ("AWS/Lambda", "IteratorAge"): "FunctionName",  # stream-mapped functions
}
FUNCTION_REFERENCE = re.compile(r'^\$\{var\.function_names\["(\w+)"\]\}$')


def _module_file(module: str) -> Path | None:
    base = PACKAGE / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str) -> set[str]:
    """camblur modules `module` imports (a `from a import b` may name the module a.b)."""
    path = _module_file(module)
    if path is None:
        return set()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("camblur"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("camblur"))
    return {name for name in found if _module_file(name) is not None}


def _emitted(module: str) -> set[str]:
    path = _module_file(module)
    assert path is not None
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_metric"
        ):
            for keyword in node.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    names.add(str(keyword.value.value))
    return names


@cache
def metrics_by_function() -> dict[str, frozenset[str]]:
    """Function key -> every metric name the code its handler reaches can emit."""
    result = {}
    for function, (handler, _) in terraform_functions().items():
        seen: set[str] = set()
        todo = [handler.rsplit(".", 1)[0]]
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(_imports(module) - seen)
        result[function] = frozenset(name for module in seen for name in _emitted(module))
    return result


@cache
def function_environments() -> dict[str, dict[str, str]]:
    environments = {}
    for block in load_hcl(PIPELINE / "main.tf")["locals"]:
        for key, spec in block.get("functions", {}).items():
            environments[key] = spec["environment"]
        if "reconciler" in block:
            environments["model_reconciler"] = block["reconciler"]["environment"]
    return environments


def _locals() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(PIPELINE.glob("*.tf")):
        for block in load_hcl(path).get("locals", []):
            merged.update(block)
    return merged


def alarms() -> list[tuple[str, dict[str, Any]]]:
    """(name, alarm) for every metric alarm, for_each over a literal local map expanded."""
    local_values = _locals()
    found = []
    for path in sorted(PIPELINE.glob("*.tf")):
        for block in load_hcl(path).get("resource", []):
            for name, body in block.get("aws_cloudwatch_metric_alarm", {}).items():
                each = str(body.get("for_each") or "")
                match = re.fullmatch(r"\$\{local\.(\w+)\}", each)
                entries = local_values.get(match.group(1)) if match else None
                if isinstance(entries, dict) and all(isinstance(v, dict) for v in entries.values()):
                    for key, value in entries.items():
                        found.append((f"{name}[{key}]", _substitute(body, value)))
                else:
                    found.append((name, body))
    return found


def _substitute(value: Any, each: dict[str, Any]) -> Any:
    """Put each.value.<field> of one for_each entry into the alarm's expressions."""
    if isinstance(value, dict):
        return {key: _substitute(item, each) for key, item in value.items()}
    if isinstance(value, str):
        whole = re.fullmatch(r"\$\{each\.value\.(\w+)\}", value)
        if whole:
            return each[whole.group(1)]
        return re.sub(r"each\.value\.(\w+)", lambda m: f'"{each[m.group(1)]}"', value)
    return value


ALARMS = alarms()


def test_the_refinement_faults_are_alarmed() -> None:
    watched = {alarm["metric_name"] for _, alarm in ALARMS}
    for metric in (
        "RefineModelFailed",
        "RefineModelUnusable",
        "RefineWatchdogStops",
        "RefineSessionOverdue",
        "RefineDaysLate",
        "RefineRunsWithFailures",
    ):
        assert metric in watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in {
        (alarm["namespace"], alarm["metric_name"]) for _, alarm in ALARMS
    }  # the DLQs


@pytest.mark.parametrize(("name", "alarm"), ALARMS, ids=[name for name, _ in ALARMS])
def test_each_alarm_watches_a_metric_the_code_or_aws_emits(
    name: str, alarm: dict[str, Any]
) -> None:
    namespace, metric = alarm["namespace"], alarm["metric_name"]
    dimensions = alarm.get("dimensions") or {}
    if namespace.startswith("AWS/"):
        assert (namespace, metric) in AWS_METRICS, f"{name}: {namespace} {metric} is not known"
        assert set(dimensions) == {AWS_METRICS[namespace, metric]}
        return
    # An EMF metric: namespace and service dimension as the emitting function sets them.
    assert set(dimensions) == {"service"}, f"{name}: Powertools adds only `service`"
    reference = FUNCTION_REFERENCE.fullmatch(dimensions["service"])
    assert reference, f"{name}: service must name a function: {dimensions['service']}"
    function = reference.group(1)
    environment = function_environments()[function]
    assert dimensions["service"] == environment["POWERTOOLS_SERVICE_NAME"]
    assert namespace == environment["POWERTOOLS_METRICS_NAMESPACE"]
    assert metric in metrics_by_function()[function], (
        f"{name}: {function}'s code never emits {metric}"
    )


@pytest.mark.parametrize(("name", "alarm"), ALARMS, ids=[name for name, _ in ALARMS])
def test_each_alarm_notifies_the_topic(name: str, alarm: dict[str, Any]) -> None:
    assert alarm.get("alarm_actions") == "${local.alarm_actions}", name


def test_the_check_finds_a_metric_nobody_emits() -> None:
    # The reading of the code is not vacuous: the worker emits what the worker emits only.
    assert "PicturesDeadLettered" in metrics_by_function()["refine_worker"]
    assert "RefineModelFailed" not in metrics_by_function()["refine_worker"]
    assert "RefineModelFailed" in metrics_by_function()["model_reconciler"]
