"""The one layer that reads and writes git: plumbing, trees, notes, dry SHAs, the spec at a
revision."""
