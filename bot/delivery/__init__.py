"""Rows and Slack calls: the inbox (events stored before the ack), its spool and writer, the outbox, the lane workers, the scheduler. Knows nothing of tickets."""
