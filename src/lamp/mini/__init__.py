"""Offline "mini" profile: a procedural, seeded world of coloured shapes and the eight LAMP motions.

:mod:`lamp.mini.scenes` renders pictures and videos in memory; :mod:`lamp.mini.synthetic` writes
the datasets (motion videos, captioned stills, evaluation prompts) reproducibly to disk.
"""

import lazy_loader

# A name imports its submodule on first use (the imports in __init__.pyi, which type checkers read):
# every `kedro run` checks the parameters with scenes.py and settings.py, needing none of synthetic's video writers.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
