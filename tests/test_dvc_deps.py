"""Every DVC stage that runs Kedro lists, as deps, all of the project's code its nodes can run, no
code they cannot, and the catalog files that place its data.

DVC re-runs a stage only when a dep changes, and the code deps in dvc.yaml are written by hand:
a module missing there is code that changes a stage's outputs without DVC seeing it (issue 17
found three). The code a stage runs is derived here from the source, statically: the modules of
the Kedro pipelines its command names (and the per-motion wiring they share), the catalog's
dataset module, and every ``lamp`` module they import, at any depth, at module level or inside
functions. A lazily loaded package (``lazy_loader`` and an ``__init__.pyi``) imports the submodule
that defines each name taken from it. The config loader is the run's start-up, not a stage's code:
it reads and checks params.yaml, and what it decides reaches the nodes only as parameter values,
which DVC tracks through each stage's ``params``; the walk does not go through it.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
#: What every `kedro run` loads for the catalog, whatever its pipeline (conf/base/catalog.yml's types),
#: and the per-motion wiring every pipeline is built with.
SHARED_MODULES = ("lamp.datasets", "lamp.pipelines.motions")
#: The run's start-up (see above).
START_UP = {"lamp.config_loader"}


def module_file(module: str) -> Path | None:
    """The file of a ``lamp`` module (a package's ``__init__.py``), or None for other modules."""
    if not module.startswith("lamp"):
        return None
    path = SRC.joinpath(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return None


def resolve(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name of ``from <level dots><module> import ...`` written in ``importer``."""
    if level == 0:
        return module or ""
    parts = importer.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


@cache
def stub_sources(package: str) -> dict[str, str]:
    """For a lazily loaded package: name -> the submodule its ``__init__.pyi`` imports it from."""
    stub = SRC.joinpath(*package.split(".")) / "__init__.pyi"
    if not stub.is_file():
        return {}
    sources = {}
    for node in ast.walk(ast.parse(stub.read_text())):
        if isinstance(node, ast.ImportFrom):
            source = resolve(node.module, node.level, package, is_package=True)
            sources.update({alias.asname or alias.name: source for alias in node.names})
    return sources


@cache
def imported_modules(module: str) -> frozenset[str]:
    """The ``lamp`` modules that ``module`` imports directly (anywhere in its code)."""
    path = module_file(module)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(node.module, node.level, module, is_package)
            names = [source]
            for alias in node.names:
                names.append(f"{source}.{alias.name}")  # a submodule imported by name
                names.append(stub_sources(source).get(alias.name, ""))
        else:
            continue
        for name in names:
            # `import lamp.a.b` runs lamp, lamp.a and lamp.a.b
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1) if module_file(".".join(parts[:i])))
    return frozenset(found - {module})


def closure(roots: list[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imported_modules(module) - START_UP)
    return seen


def pipeline_modules(name: str) -> list[str]:
    folder = SRC / "lamp" / "pipelines" / name
    return [f"lamp.pipelines.{name}.{path.stem}".removesuffix(".__init__") for path in sorted(folder.glob("*.py"))]


def kedro_stages() -> dict[str, tuple[list[str], list[str]]]:
    """Stage name -> (the pipelines its command runs, its deps under src/)."""
    stages = {}
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        body = stage.get("do", stage)
        match = re.search(r"kedro run .*--pipelines?=([\w,]+)", body["cmd"])
        if match:
            deps = [dep for dep in body.get("deps", []) if dep.startswith("src/")]
            stages[name] = (match.group(1).split(","), deps)
    return stages


def covered(path: Path, deps: list[str]) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative == dep or relative.startswith(dep.rstrip("/") + "/") for dep in deps)


STAGES = kedro_stages()


def code_of(pipelines: list[str]) -> set[Path]:
    """The files of every ``lamp`` module the stage's nodes and catalog can run (not the package
    ``lamp/__init__.py``, which holds only the version)."""
    modules = closure([m for name in pipelines for m in pipeline_modules(name)] + list(SHARED_MODULES))
    return {module_file(m) for m in modules if m != "lamp"}


def test_the_stages_are_found() -> None:
    assert {"pretrain", "prepare", "train", "generate", "evaluate", "ablate", "edit_model", "edit"} <= set(STAGES)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_lists_all_the_code_it_runs(stage: str) -> None:
    pipelines, deps = STAGES[stage]
    missing = sorted(path.relative_to(ROOT).as_posix() for path in code_of(pipelines) if not covered(path, deps))
    assert not missing, f"dvc.yaml: stage {stage!r} runs code it does not list as deps: {missing}"


def test_the_analysis_sees_imports_inside_functions_and_through_lazy_packages() -> None:
    # the train nodes import lamp.models lazily: LAMPVideoUNet lives in lamp.models.video_unet
    code = {path.relative_to(SRC).as_posix() for path in code_of(["train"])}
    assert {"lamp/models/video_unet.py", "lamp/training/loop.py", "lamp/data/latents.py"} <= code
    assert "lamp/editing/inversion.py" not in code


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_lists_no_code_it_does_not_run(stage: str) -> None:
    """A dep the stage does not run re-runs it for nothing when that file changes (``ablate`` listed
    ``pipelines/evaluate`` after it stopped importing it)."""
    pipelines, deps = STAGES[stage]
    code = code_of(pipelines)
    unused = [dep for dep in deps if not any(covered(path, [dep]) for path in code)]
    assert not unused, f"dvc.yaml: stage {stage!r} lists code it does not run: {unused}"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_lists_the_catalog_files_that_place_its_data(stage: str) -> None:
    """Kedro reads every conf/base/catalog*.yml; a path changed there moves a stage's inputs or outputs."""
    pipelines, _ = STAGES[stage]
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]
    deps = deps.get("do", deps)["deps"]
    wanted = {"conf/base/catalog.yml"} | ({"conf/base/catalog_edit.yml"} if {"edit", "report"} & set(pipelines) else set())
    assert wanted <= set(deps), f"dvc.yaml: stage {stage!r} does not list {sorted(wanted - set(deps))}"
