"""Kedro project settings for lamp."""

import warnings

from lamp.config_loader import LOADER_ARGS, LAMPConfigLoader
from lamp.hooks import MarkKilledRunsFailed, NameRunsAfterStages, OpenExperimentOnRuns, TagCommit

CONFIG_LOADER_CLASS = LAMPConfigLoader
CONFIG_LOADER_ARGS = LOADER_ARGS
# Runs of killed processes FAILED in MLflow at the next `kedro run`, each run named after its stage, and the
# experiment opening on its runs table (all after kedro-mlflow's hook starts the run).
HOOKS = (MarkKilledRunsFailed(), NameRunsAfterStages(), TagCommit(), OpenExperimentOnRuns())

# Per-motion datasets are named `<motion>.<what>` by design, as Kedro's namespaces name them, and the
# pipelines that read every motion's outputs (evaluate, ablate) name them so too; Kedro warns at each.
warnings.filterwarnings("ignore", message="One or more dataset names contain '.' characters")
# A motion's nodes run on both sides of the shared mini pretraining (synthesize@<motion> before it, ingest,
# encode, train after), so in the default pipeline each motion's namespace is "interrupted"; the order is right.
warnings.filterwarnings("ignore", message="Namespace '.*' is interrupted by nodes")
