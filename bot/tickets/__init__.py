"""Tickets: the record, its actions, card, permissions, SLA, stats, App Home, export."""
