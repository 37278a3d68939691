"""Plain-Python ingest of user videos: reading, validating, resizing, manifest rows, writing."""

import lazy_loader

# A name imports its submodule on first use (the imports in __init__.pyi, which type checkers read):
# the mini world writes its videos through video_io and needs none of ingest's OpenCV.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
