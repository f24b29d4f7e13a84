"""Where each environment stands: status, wait and commit-status."""
