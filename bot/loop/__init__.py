"""Closing the loop: notices to reporters when their ticket is resolved, CSAT, `/hc notify`."""
