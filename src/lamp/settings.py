"""Kedro project settings for lamp."""

from lamp.config_loader import LAMPConfigLoader, env_or_default
from lamp.hooks import MarkKilledRunsFailed, NameRunsAfterStages

CONFIG_LOADER_CLASS = LAMPConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"lamp.env": env_or_default},
}
# Runs of killed processes FAILED in MLflow at the next `kedro run`, and each run named after its stage
# (both after kedro-mlflow's hook starts the run).
HOOKS = (MarkKilledRunsFailed(), NameRunsAfterStages())
