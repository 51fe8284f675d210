"""modelfile: edit ncnn and OpenVINO IR model files losslessly.

>>> import modelfile
>>> m = modelfile.load("encoder.ncnn.param")
>>> m.find_node("in0")
>>> m.save("out.ncnn.param")
"""

from .errors import Diagnostic, ModelfileError, Severity
from .graph import Graph, Node, SourcePos, Value
from .model import Model, SaveResult, load

__all__ = [
    "Diagnostic", "Graph", "Model", "ModelfileError", "Node", "SaveResult", "Severity", "SourcePos",
    "Value", "load",
]
__version__ = "0.1.0"
