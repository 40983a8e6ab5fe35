"""Intake: a report (message, form, shortcut) becomes a ticket; links and duplicates."""
