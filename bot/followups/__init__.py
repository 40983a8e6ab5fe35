"""Follow-up questions for missing details: asking, reading the answers, nudging."""
