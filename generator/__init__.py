"""gitops-gen: render GitOps environments and publish them onto the branches the GitOps Promoter acts on."""

__version__ = "0.1.0"
