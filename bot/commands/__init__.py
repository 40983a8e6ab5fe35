"""The `/hc` router and argument parsing; each domain keeps its own subcommands."""
