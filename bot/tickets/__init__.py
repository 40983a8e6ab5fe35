"""The ticket: creating and changing it, its card and Block Kit, the triage team's permissions and commands, SLA, stats, App Home, export."""
