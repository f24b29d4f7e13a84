"""Real Helm as Argo CD's repo server runs it: the binary, the chart cache, the rendered objects."""
