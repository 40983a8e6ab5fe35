"""Stand-up digests: building one, its chart, schedules, `/hc digest`."""
