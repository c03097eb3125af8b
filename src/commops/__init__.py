"""commops: the open-source community operations platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("commops")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
