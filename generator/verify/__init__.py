"""verify: real Helm on every app of every environment, as Argo CD runs it; what only Helm shows."""
