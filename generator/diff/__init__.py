"""diff: what a change, a promotion or the drift between two environments does."""
