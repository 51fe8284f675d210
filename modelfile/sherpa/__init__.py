"""sherpa-ncnn's SherpaMetaData: schema, export-command parsing, derivation from the graph, checks, verification.

One package used by ``patch --add-sherpa-meta`` (:mod:`modelfile.passes.sherpa_meta`),
``lint`` (:mod:`modelfile.lint.rules_sherpa`) and ``info``:

* :mod:`.schema` families, keys, icefall flag names, :class:`SherpaMeta`
* :mod:`.layers` finding the meta layer (and misspelt ones) in a graph
* :mod:`.export_command` pasted ``export-for-ncnn.py`` commands and flag values
* :mod:`.derive` the values the encoder graph shows, with the layer they come from
* :mod:`.resolve` given values over derived ones: the meta to write
* :mod:`.checks` sherpa-ncnn's rules and contradictions with the graph
* :mod:`.describe` what ``info`` shows
* :mod:`.verify` loading the encoder in sherpa-ncnn (subprocess)
"""

from .schema import FAMILIES, FIELDS, META_NAME, META_TYPE, SherpaMeta

__all__ = ["FAMILIES", "FIELDS", "META_NAME", "META_TYPE", "SherpaMeta"]
