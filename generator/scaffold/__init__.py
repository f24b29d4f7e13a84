"""init and schema: a new GitOps repository, and the spec's JSON Schema."""
