"""Hand-off to the engineering team's tracker (issue 15): GitHub Issues, Jira and Linear, both ways.

- `config`: which trackers are configured, and where a channel's tickets go.
- `content`: what an issue says (title, body, labels, priority): plain data from a Ticket.
- `http`, `clients`: the trackers' REST/GraphQL APIs over plain HTTP (the outbox owns retries).
- `service`: push a ticket (an outbox row, in the caller's transaction), record the answer.
- `delivery`: works the outbox's tracker rows (plugged into the outbox worker by bot.runtime.app).
- `sync`: carries later changes made in Slack to the tracker, and auto-pushes by severity.
- `webhooks`: verifies and stores tracker webhooks before the 200; works them like Slack events.
- `card`: the tracker line and the "Send to …" button of a ticket card.
Domain code only: plain data and a Session; nothing here knows Bolt.
"""
