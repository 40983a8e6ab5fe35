"""The live dashboard: signed links (links), its numbers (data), the page and its HTTP routes (web)."""
