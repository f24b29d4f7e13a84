"""publish: each environment's rendered tree onto its <prefix><env>-next branch."""
