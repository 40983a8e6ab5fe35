"""The `/hc` router and argument parsing only; each domain owns its subcommands."""
