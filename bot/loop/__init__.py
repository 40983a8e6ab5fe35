"""Closing the loop: resolution notices, ratings (CSAT), exit criteria."""
