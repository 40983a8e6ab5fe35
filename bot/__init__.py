"""Hypercare: the domain and the wiring (intake, triage, follow-ups, digests, CLI, app factory)."""
