"""LAMP sampling: the first-frame-conditioned video diffusion pipeline and its post-processing."""

import lazy_loader

# A name imports its submodule on first use (the imports in __init__.pyi, which type checkers read):
# every `kedro run` checks the parameters with settings.py and must not pay for torch or diffusers.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
