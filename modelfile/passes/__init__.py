"""Graph transforms: one module per transform, each returning a :class:`~modelfile.passes.report.Report`."""
