"""Kedro hooks of the project: MLflow runs of killed processes marked FAILED at the next ``kedro run``.

kedro-mlflow ends a run when its pipeline finishes or raises, but a process killed with SIGKILL (or
by the OOM killer, or a power cut) ends nothing, and MLflow shows that run RUNNING forever. MLflow
has no liveness of its own (no heartbeat), so every run records the process that owns it, and every
``kedro run`` checks the experiment's RUNNING runs against the processes of this host.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any, Sequence

import mlflow
import psutil
from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines as kedro_pipelines
from mlflow.entities import Run, RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

from lamp.lineage import commit_tags

logger = logging.getLogger(__name__)

PID_TAG = "lamp.pid"
HOST_TAG = "lamp.host"
PID_NAMESPACE_TAG = "lamp.pid_namespace"
STARTED_TAG = "lamp.process_started"
FAILED_TAG = "lamp.failed_because"

#: Two readings of one process's start time differ by rounding only (clock ticks, printed to 0.01 s).
_SAME_START_SECONDS = 1.0


class MarkKilledRunsFailed:
    """At the start of every tracked ``kedro run``: tag its MLflow run with this process, fail the dead ones.

    A RUNNING run of the experiment is dead, and set FAILED with a ``lamp.failed_because`` tag, when
    it was recorded on this host (same host name and pid namespace) and its process is gone: no
    process with its pid, a zombie, or a process with that pid started at another time (the pid was
    reused). Runs recorded on another host, and runs without the tags (from before this hook,
    or started outside a ``kedro run``), are left alone: nothing here can tell whether their
    process still runs, and failing a live run would be worse than leaving a dead one RUNNING.
    A pipeline whose tracking is turned off has no run, and checks nothing until the next tracked one.
    Child runs started by a node (the ablation's variants) carry the same tags (:func:`process_tags`).
    """

    @hook_impl(trylast=True)  # after kedro-mlflow's own before_pipeline_run has started the run
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        mlflow.set_tags(process_tags())
        client = MlflowClient()
        try:
            for dead in dead_runs(client, run.info.experiment_id):
                reason = f"{_describe(dead)} is gone; marked FAILED at the start of run {run.info.run_id}"
                logger.warning("MLflow run %s was left RUNNING: %s", dead.info.run_id, reason)
                client.set_tag(dead.info.run_id, FAILED_TAG, reason)
                client.set_terminated(dead.info.run_id, RunStatus.to_string(RunStatus.FAILED))
        except MlflowException as error:
            # Tidying up other runs must never stop this one; the next run tries again.
            logger.warning("could not check the experiment's RUNNING runs for killed processes: %s", error)


class NameRunsAfterStages:
    """Name each tracked ``kedro run``'s MLflow run after the DVC stage that runs it (``train@rain``,
    ``first_frames``; DVC hands it over as ``DVC_STAGE``), else after what it runs (``train@rain`` for
    ``--pipelines=train --namespaces=rain``, ``ingest+encode@rain``); tag the stage and, inside
    ``dvc exp run``, the experiment. kedro-mlflow names every run after nothing or the pipeline alone, so
    eight motion models showed as eight runs called ``train``, and stages ``first_frames`` and
    ``generate`` (one pipeline) as two called ``generate``."""

    @hook_impl(trylast=True)  # after kedro-mlflow's own before_pipeline_run has started the run
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if mlflow.active_run() is not None:
            ran = run_name(run_params.get("pipeline_names"), run_params.get("namespaces"), chain_order())
            mlflow.set_tags({MLFLOW_RUN_NAME: os.environ.get(DVC_STAGE_ENV) or ran, **dvc_tags()})


#: What DVC tells a stage's command: its stage (``train@rain``) and, in ``dvc exp run``, the experiment's name.
DVC_STAGE_ENV, DVC_EXPERIMENT_ENV = "DVC_STAGE", "DVC_EXP_NAME"


def dvc_tags() -> dict[str, str]:
    """``lamp.dvc_stage`` and ``lamp.dvc_experiment`` where DVC ran this process (none otherwise)."""
    names = {"lamp.dvc_stage": DVC_STAGE_ENV, "lamp.dvc_experiment": DVC_EXPERIMENT_ENV}
    return {tag: os.environ[env] for tag, env in names.items() if os.environ.get(env)}


class TagCommit:
    """Tag every tracked ``kedro run`` with the code it ran (:func:`lamp.lineage.commit_tags`): the commit,
    ``-dirty`` and what differs when code or parameters were changed, and MLflow's own commit tag."""

    @hook_impl(trylast=True)  # after kedro-mlflow's own before_pipeline_run has started the run
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if mlflow.active_run() is not None:
            mlflow.set_tags(commit_tags())


class OpenExperimentOnRuns:
    """Mark the experiment as model development (``mlflow.experimentKind``), so that MLflow 3's UI opens it
    on the runs table, not in the GenAI view it infers for an experiment without traces."""

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        client = MlflowClient()
        if EXPERIMENT_KIND not in client.get_experiment(run.info.experiment_id).tags:
            client.set_experiment_tag(run.info.experiment_id, EXPERIMENT_KIND, "custom_model_development")


#: The experiment tag MLflow 3's UI reads to choose its view (values of its ExperimentKind).
EXPERIMENT_KIND = "mlflow.experimentKind"


def run_name(pipelines: list[str] | None, namespaces: list[str] | None, chain: Sequence[str] = ()) -> str:
    """``<pipeline>[+<pipeline>...][@<namespace>[,<namespace>...]]``; the default pipeline is ``__default__``.

    Pipelines in their order in ``chain`` (:func:`chain_order`: ingest before encode), since Kedro hands a
    run's pipeline names over in no fixed order (``prepare@rain`` was named ``ingest+encode@rain`` in one
    run and ``encode+ingest@waterfall`` in the next).
    """
    order = {name: i for i, name in enumerate(chain)}
    name = "+".join(sorted(pipelines or ["__default__"], key=lambda p: order.get(p, len(order))))
    return f"{name}@{','.join(namespaces)}" if namespaces else name


def chain_order() -> list[str]:
    """The registered pipelines in the order the default run finishes them (by their last node: a
    pipeline's first nodes may need nothing and run early, its last needs what it builds on)."""
    position = {node.name: i for i, node in enumerate(kedro_pipelines["__default__"].nodes)}
    last = {name: max((position.get(node.name, len(position)) for node in pipeline.nodes), default=len(position))
            for name, pipeline in kedro_pipelines.items() if name != "__default__"}
    return sorted(last, key=last.get)


def process_tags() -> dict[str, str]:
    """Tags naming this process, so that a later run can tell whether it still runs."""
    return {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        PID_NAMESPACE_TAG: _pid_namespace(),
        STARTED_TAG: f"{psutil.Process().create_time():.2f}",
    }


def dead_runs(client: MlflowClient, experiment_id: str) -> list[Run]:
    """The RUNNING runs of the experiment whose process, recorded on this host, is gone."""
    running = client.search_runs(
        [experiment_id],
        filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{socket.gethostname()}'",
    )
    return [run for run in running if _process_gone(run.data.tags)]


def _process_gone(tags: dict[str, str]) -> bool:
    if tags.get(HOST_TAG) != socket.gethostname() or tags.get(PID_NAMESPACE_TAG) != _pid_namespace():
        return False
    try:
        pid, recorded_start = int(tags[PID_TAG]), float(tags[STARTED_TAG])
    except (KeyError, ValueError):
        return False  # tags this hook did not write: cannot tell, so the run is left alone
    try:
        process = psutil.Process(pid)
        reused = abs(process.create_time() - recorded_start) > _SAME_START_SECONDS
        return reused or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # zombies too, on some platforms
        return True
    except psutil.Error:
        return False  # e.g. access denied: the process exists


def _pid_namespace() -> str:
    """The pid namespace (a container has its own): the same pid in another one is another process."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _describe(run: Run) -> str:
    tags = run.data.tags
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(tags.get(STARTED_TAG, 0))))
    return f"its process {tags.get(PID_TAG)} on host {tags.get(HOST_TAG)} (started {started})"
