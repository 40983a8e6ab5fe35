"""Delivery: inbox, spool, outbox, workers, scheduler, retention: rows and Slack calls, nothing of tickets."""
