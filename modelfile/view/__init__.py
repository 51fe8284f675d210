"""Pictures of graphs: DOT, SVG and HTML (:mod:`modelfile.view.dot`)."""
