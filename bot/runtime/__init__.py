"""Runtime: app factory, HTTP server and ingress, Socket Mode, processes, Slack client, settings, CLI, console."""
