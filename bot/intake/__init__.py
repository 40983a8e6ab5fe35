"""Reports in, tickets out: channel messages, `/hc new`, the shortcut and the :ticket: reaction become tickets; links to and duplicates of existing ones."""
