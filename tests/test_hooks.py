"""A killed ``kedro run`` leaves its MLflow run RUNNING; the next ``kedro run`` marks it FAILED (issue 14, finding 5)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import psutil
from diffusers import UNet2DConditionModel
from mlflow.tracking import MlflowClient

from lamp.models import tiny_unet_config

from .conftest import REPO, run_kedro

# `kedro run --pipeline=model_card` in the project copy (the working directory), killed inside its node.
KILLED_KEDRO_RUN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [os.path.join(sys.argv[1], "src"), sys.argv[1]]
    import lamp.pipelines.model_card.pipeline as model_card
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    model_card.model_card = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    bootstrap_project(os.getcwd())
    with KedroSession.create(project_path=os.getcwd(), runtime_params={"profiles": {"mini": {"video_base_model": sys.argv[2]}}}) as session:
        session.run(pipeline_names=["model_card"])
    """
)


def this_process_tags(started_offset: float = 0.0) -> dict[str, str]:
    """The tags a run of this (live) process carries; an offset start time makes them another process's."""
    return {
        "lamp.pid": str(os.getpid()),
        "lamp.host": socket.gethostname(),
        "lamp.pid_namespace": os.readlink("/proc/self/ns/pid"),
        "lamp.process_started": f"{psutil.Process().create_time() + started_offset:.2f}",
    }


def test_a_run_left_running_by_a_killed_process_is_failed_at_the_next_kedro_run(kedro_project):
    base = kedro_project / "tiny_base"
    UNet2DConditionModel(**tiny_unet_config()).save_pretrained(base / "unet")
    killed = subprocess.Popen([sys.executable, "-c", KILLED_KEDRO_RUN, str(REPO), str(base)], stderr=subprocess.PIPE, text=True)
    assert killed.wait() == -signal.SIGKILL, killed.stderr.read()[-3000:]
    client = MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])  # this project's store, whatever an earlier test set
    experiment = client.get_experiment_by_name("lamp").experiment_id
    [left] = client.search_runs([experiment])
    assert left.info.status == "RUNNING"
    untagged = client.create_run(experiment, run_name="older, untagged").info.run_id
    live = client.create_run(experiment, tags=this_process_tags(), run_name="live").info.run_id
    reused = client.create_run(experiment, tags=this_process_tags(started_offset=-3600), run_name="pid reused").info.run_id

    run_kedro(kedro_project, "model_card", {"profiles": {"mini": {"video_base_model": str(base)}}})

    statuses = {run.info.run_id: run.info.status for run in client.search_runs([experiment])}
    new = next(run_id for run_id in statuses if run_id not in {left.info.run_id, untagged, live, reused})
    assert statuses == {
        left.info.run_id: "FAILED",
        reused: "FAILED",
        untagged: "RUNNING",
        live: "RUNNING",
        new: "FINISHED",
    }
    failed = client.get_run(left.info.run_id)
    assert failed.info.end_time is not None and failed.data.tags["lamp.pid"] == str(killed.pid)
    assert failed.data.tags["lamp.failed_because"] == (
        f"its process {killed.pid} on host {socket.gethostname()} (started {started(failed)}) is gone; "
        f"marked FAILED at the start of run {new}"
    )
    assert client.get_run(new).data.tags["lamp.pid"] == str(os.getpid())


def started(run) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(run.data.tags["lamp.process_started"])))


def test_a_run_is_named_after_its_pipelines_and_namespaces():
    from lamp.hooks import run_name

    assert run_name(["train"], ["rain"]) == "train@rain"
    assert run_name(["ingest", "encode"], ["rain"]) == "ingest+encode@rain"
    assert run_name(["encode", "ingest"], ["rain"], chain=["synthesize", "ingest", "encode"]) == "ingest+encode@rain"
    assert run_name(["generate"], None) == "generate"
    assert run_name(None, []) == "__default__"


def test_a_run_that_a_dvc_stage_starts_is_named_after_the_stage_and_tagged_with_its_experiment(kedro_project, monkeypatch):
    """DVC tells a stage's command its stage (``DVC_STAGE``) and, in ``dvc exp run``, the experiment
    (``DVC_EXP_NAME``): stages that run one pipeline (first_frames and generate) get their own names."""
    base = kedro_project / "tiny_base"
    UNet2DConditionModel(**tiny_unet_config()).save_pretrained(base / "unet")
    monkeypatch.setenv("DVC_STAGE", "card_of_the_base")
    monkeypatch.setenv("DVC_EXP_NAME", "humid-doek")
    run_kedro(kedro_project, "model_card", params={"profiles": {"mini": {"video_base_model": str(base)}}})
    client = MlflowClient()
    run = client.search_runs([client.get_experiment_by_name("lamp").experiment_id])[0]
    tags = run.data.tags
    assert (tags["mlflow.runName"], tags["lamp.dvc_stage"], tags["lamp.dvc_experiment"]) == (
        "card_of_the_base", "card_of_the_base", "humid-doek")
