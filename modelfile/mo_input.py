"""The mo ``--input``/``--output`` language: kept as the import path earlier code used; see :mod:`modelfile.mo`."""

from __future__ import annotations

from .mo import *  # noqa: F403
from .mo import __all__  # noqa: F401
from .mo.diagnose import _translate  # noqa: F401
from .mo.parse import _parser  # noqa: F401
