"""MLflow logging that kedro-mlflow does not do by itself: step metrics, lineage, the model registry."""

from __future__ import annotations

import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from lamp.io import file_sha256
from lamp.models.files import MotionModel
from lamp.training import TrainingCallback

from lamp.lineage import MODEL_VERSION_TAG


class MlflowStepLogger(TrainingCallback):
    """Logs every step's loss, learning rate and step time to the active MLflow run.

    Metrics are sent ``every`` steps in one batch: one SQLite write per step would cost more than
    a mini training step.
    """

    def __init__(self, run_id: str, every: int = 50) -> None:
        self.client, self.run_id, self.every = MlflowClient(), run_id, every
        self.pending: list[Metric] = []

    def on_step(self, step: int, loss: float, lr: float, seconds: float) -> None:
        now = int(time.time() * 1000)
        self.pending += [
            Metric("loss", loss, now, step),
            Metric("learning_rate", lr, now, step),
            Metric("step_seconds", seconds, now, step),
        ]
        if step % self.every == 0:
            self.flush()

    def on_checkpoint(self, path: Path, step: int) -> None:
        self.flush()
        self.client.set_tag(self.run_id, "lamp.last_checkpoint", str(path))

    def flush(self) -> None:
        if self.pending:
            self.client.log_batch(self.run_id, metrics=self.pending)
            self.pending = []


#: The alias of a registered model's newest version, ``models:/lamp-rain@newest`` (MLflow reserves "latest").
NEWEST = "newest"


def register_model_version(run_id: str, artifact_path: str, name: str, tags: dict[str, str], description: str = "") -> str:
    """A new version of registered model ``name`` whose source is the run's ``artifact_path``, with a
    description, and the alias :data:`NEWEST` moved onto it; its number.

    ``mlflow.register_model`` wants an MLflow-format model; the motion weights are a plain folder
    (safetensors + JSON) that ``LAMPVideoUNet.from_motion`` reads, so the version is created on
    the folder's artifact URI directly.
    """
    client = MlflowClient()
    try:
        client.create_registered_model(name, description="LAMP motion layers for one motion")
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    source = f"{mlflow.get_run(run_id).info.artifact_uri}/{artifact_path}"
    version = client.create_model_version(name, source, run_id=run_id, tags=tags, description=description)
    client.set_registered_model_alias(name, NEWEST, version.version)
    return version.version


def registered_version(name: str, weights_sha256: str) -> str | None:
    """The version of registered model ``name`` whose weights have this SHA-256 (the newest), or None.

    Generated videos are tagged with it, so a result links to the exact motion model that made it
    even after the motion is retrained.
    """
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    matching = [v for v in versions if v.tags.get("lamp.weights_sha256") == weights_sha256]
    return str(max(matching, key=lambda v: int(v.version)).version) if matching else None


def tag_model_version(motion: str, model: MotionModel) -> str | None:
    """Tag the active run with the registered version (``lamp-<motion>``) of the motion model it uses; the version."""
    version = registered_version(f"lamp-{motion}", file_sha256(model.weights))
    if mlflow.active_run():
        mlflow.set_tag(f"{MODEL_VERSION_TAG}{motion}", version or "unregistered")
    return version

