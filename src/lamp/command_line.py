"""The ``lamp`` command (not ``lamp/cli.py``: Kedro reserves that module for project commands)."""

from __future__ import annotations

import json

import click


@click.group()
def main() -> None:
    """LAMP: learn a motion pattern from a few videos, then generate videos with it."""


@main.command()
@click.option("--base-model", required=True, help="diffusers model folder or hub id holding unet/")
@click.option("--revision", default=None, help="hub revision of --base-model")
@click.option("--frames", default=4, show_default=True, help="frames of the equivalence check")
def inspect(base_model: str, revision: str | None, frames: int) -> None:
    """Inflate BASE_MODEL's UNet with the default LAMP switches and print its model card."""
    from diffusers import UNet2DConditionModel

    from lamp.models import LAMPConfig
    from lamp.models.checks import inflation_report

    unet = UNet2DConditionModel.from_pretrained(base_model, subfolder="unet", revision=revision).eval()
    click.echo(json.dumps(inflation_report(unet, LAMPConfig(), frames=frames), indent=2))
