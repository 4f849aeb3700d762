"""hera: the small client of a Hera service — run tools, scripts and batches remotely,
query the TAP catalogue, and use the workspace, from the command line (``hera``) or
from Python (:class:`hera.Client`). Standard library only; astropy when installed."""
__version__ = "0.1.0"

from .client import Client, Run  # noqa: E402
from .errors import HeraError, JobFailed  # noqa: E402
from .script import WorkspacePath  # noqa: E402

__all__ = ["Client", "Run", "HeraError", "JobFailed", "WorkspacePath", "__version__"]
