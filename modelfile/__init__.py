"""modelfile: edit ncnn and OpenVINO IR model files losslessly.

>>> import modelfile
>>> m = modelfile.load("encoder.ncnn.param")
>>> m.find_node("in0")
>>> m.save("out.ncnn.param")
"""

from .errors import Diagnostic, ModelfileError, Severity
from .graph import Graph, Node, SourcePos, Value
from . import saving
from .io import load
from .model import Model
from .report import Report, SaveResult

Model.save_hook = saving.save_model  # the model saves through the gate (see modelfile.saving)

__all__ = [
    "Diagnostic", "Graph", "Model", "ModelfileError", "Node", "Report", "SaveResult", "Severity", "SourcePos",
    "Value", "load",
]
__version__ = "0.1.0"
