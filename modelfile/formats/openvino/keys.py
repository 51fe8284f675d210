"""The keys IR code keeps in ``Node.meta`` and ``Graph.meta``, declared once.

``meta`` dicts hold what a format needs beside the common graph; every key the IR code uses is one
of these names (``tests/test_architecture.py`` refuses a string literal key anywhere in the package).
"""

from __future__ import annotations

__all__ = ["IR_BACK_EDGES", "IR_DATA", "IR_PORT_MAP", "IR_RT_LEGACY", "IR_VERSION", "OUTPUT_NAMES", "RT_INFO"]

# -- Node.meta ------------------------------------------------------------------------

#: a Const's new bytes (numpy array) set by an edit; absent while its data is still the ``.bin`` region
IR_DATA = "ir_data"
#: a TensorIterator/Loop's ``<port_map>`` by role, as read (``{"input": [...], "output": [...]}``)
IR_PORT_MAP = "ir_port_map"
#: a TensorIterator/Loop's ``<back_edges>`` by body, as read
IR_BACK_EDGES = "ir_back_edges"

# -- Graph.meta -----------------------------------------------------------------------

#: the ``<net version>``: 10 or 11 (v10 names inputs and outputs after their layers)
IR_VERSION = "ir_version"
#: the model's ``<rt_info>`` (or legacy ``<meta_data>``) as a nested dict
RT_INFO = "rt_info"
#: the rt_info came from a legacy ``<meta_data>`` element, and is written back there
IR_RT_LEGACY = "ir_rt_legacy"
#: Node.meta of a Result: the names of its value it gives the output (OpenVINO keeps one name per output)
OUTPUT_NAMES = "output_names"
