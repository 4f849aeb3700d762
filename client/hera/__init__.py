"""hera: the small client of a Hera service — run tools, scripts and batches remotely,
query the TAP catalogue, and use the workspace, from the command line (``hera``) or
from Python (:class:`hera.Client`), and the SAMP bridge (``hera samp``) that stores what
TOPCAT or Aladin sends into the workspace. Standard library only; astropy when installed
(Tables), pyvo's SAMP for ``hera samp`` (the extra ``hera-client[samp]``). It imports
nothing of the server."""
__version__ = "0.1.0"

from .client import Client, Run  # noqa: E402
from .errors import HeraError, JobFailed  # noqa: E402
from .script import WorkspacePath  # noqa: E402

__all__ = ["Client", "Run", "HeraError", "JobFailed", "WorkspacePath", "__version__"]
