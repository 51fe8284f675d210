"""Comparing models: :func:`modelfile.compare.diff.diff_models`."""
