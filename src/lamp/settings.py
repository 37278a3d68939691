"""Kedro project settings for lamp."""

from lamp.config_loader import LAMPConfigLoader, env_or_default
from lamp.hooks import MarkKilledRunsFailed

CONFIG_LOADER_CLASS = LAMPConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"lamp.env": env_or_default},
}
# Runs of killed processes FAILED in MLflow at the next `kedro run` (after kedro-mlflow's hook starts it).
HOOKS = (MarkKilledRunsFailed(),)
