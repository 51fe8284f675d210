"""The Python API for writing your own pass: one import for everything a pass needs.

>>> from modelfile.api import Report, new_node, params, replace
>>> def run(model):                       # modelfile apply my_pass.py model.param -o out.param
...     report = Report("clip-to-relu")
...     for n in list(model.graph):            # an ncnn Clip without an upper bound is a ReLU
...         if n.op_type == "Clip" and params(n).min == 0 and params(n).max >= 3.4e38:
...             replace(n, new_node(model, "ReLU", name=n.name))
...             report.add("replace", n.name, "Clip", "ReLU")
...     return report

:func:`params` / :func:`weights` are typed views of a node (also ``node.params`` /
``node.weights``); :func:`new_node`, :func:`insert_after`, :func:`replace`, :func:`bypass`,
:func:`remove`, :func:`add_output` and :func:`set_input` edit the graph.
"""

from __future__ import annotations

from ..errors import ModelfileError
from ..graph import Graph, Node, Value
from ..graphedit import model_of
from ..io import load
from ..model import Model
from ..report import Change, Report
from .build import add_output, bypass, insert_after, new_node, remove, replace, set_input
from .views import params, weights

__all__ = [
    "Change", "Graph", "Model", "ModelfileError", "Node", "Report", "Value", "add_output", "bypass",
    "insert_after", "load", "model_of", "new_node", "params", "remove", "replace", "set_input", "weights",
]
