"""Kedro project settings for lamp."""

from lamp.config_loader import LOADER_ARGS, LAMPConfigLoader
from lamp.hooks import MarkKilledRunsFailed, NameRunsAfterStages, OpenExperimentOnRuns, TagCommit

CONFIG_LOADER_CLASS = LAMPConfigLoader
CONFIG_LOADER_ARGS = LOADER_ARGS
# Runs of killed processes FAILED in MLflow at the next `kedro run`, each run named after its stage, and the
# experiment opening on its runs table (all after kedro-mlflow's hook starts the run).
HOOKS = (MarkKilledRunsFailed(), NameRunsAfterStages(), TagCommit(), OpenExperimentOnRuns())
