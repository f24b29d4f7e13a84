"""Release steps: the image tags a release pushes, and version bumps in the spec."""
