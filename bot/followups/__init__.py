"""Follow-up questions for missing details, the reporter's answers, nudges."""
