"""gitops-gen: render GitOps environments and publish them onto the GitOps Promoter's branches."""

__version__ = "0.1.0"
