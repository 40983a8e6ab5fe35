"""Stand-up digests: build, chart, schedule, commands."""
